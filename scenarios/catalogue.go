package scenarios

import (
	"time"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Label values used by the catalogue; Ginkgo label filters select on them.
const (
	LabelDeployment   = "machinery:deployment"
	LabelBadVersion   = "fault:bad-version"
	LabelCrashloop    = "fault:crashloop"
	LabelDetectHarn   = "detection:harness"
	LabelDetectKube   = "detection:kubernetes"
	LabelCalibration  = "calibration"
	LabelInterruption = "interrupt"
)

// defaultSLO: at most 5% errors over a 2s window, restored after 10s clean.
var defaultSLO = drills.SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second, Stability: 10 * time.Second}

var stable = rollback.Version{Name: "v1", Replicas: 3}

// CanaryBadVersion: the canary answers HTTP 500 to every request; the
// harness SLO monitor fires the rollback hook.
var CanaryBadVersion = drills.Scenario{
	Name:      "canary-bad-version",
	Labels:    []string{LabelDeployment, LabelBadVersion, LabelDetectHarn},
	Stable:    stable,
	Canary:    rollback.Version{Name: "v2", Replicas: 1},
	Fault:     drills.CanaryFault{Kind: "bad-version", Env: map[string]string{"ERROR_RATIO": "1"}, Onset: drills.OnsetCanaryServesErrors},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
}

// CanaryCrashloop: the canary crashes on start; the machinery rolls back on
// Kubernetes signals alone.
var CanaryCrashloop = drills.Scenario{
	Name:      "canary-crashloop",
	Labels:    []string{LabelDeployment, LabelCrashloop, LabelDetectKube},
	Stable:    stable,
	Canary:    rollback.Version{Name: "v2", Replicas: 1},
	Fault:     drills.CanaryFault{Kind: "crashloop", Env: map[string]string{"CRASH_ON_START": "true"}, Onset: drills.OnsetCanaryCrashes},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// Calibration: the app fails every request for exactly 3s; the observer
// must measure 3s within two observer intervals.
var Calibration = drills.Scenario{
	Name:      "calibration",
	Labels:    []string{LabelCalibration},
	Stable:    rollback.Version{Name: "v1", Replicas: 1},
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
	Calibrate: 3 * time.Second,
}

// Rollbacks are the drills that roll back a bad canary.
var Rollbacks = []drills.Scenario{CanaryBadVersion, CanaryCrashloop}
