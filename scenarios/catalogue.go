package scenarios

import (
	"time"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
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
	LabelPodKill      = "fault:pod-kill"
	LabelPartition    = "fault:network-partition"
	LabelDelay        = "fault:network-delay"
	LabelBadImage     = "fault:bad-image"
	LabelChaosMesh    = "backend:chaosmesh"
	LabelNative       = "backend:native"
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

// healthyCanary is a good new version: the injected fault is what goes wrong.
var healthyCanary = rollback.Version{Name: "v2", Replicas: 1}

// onCanaryTraffic starts a fault once the canary serves 10% of requests.
var onCanaryTraffic = drills.Start{When: drills.StartOnCanaryTraffic, Percent: 10}

// CanaryPodKill: Chaos Mesh kills the canary pod while it takes traffic;
// Kubernetes replaces it and service must recover within the budget with
// no rollback.
var CanaryPodKill = drills.Scenario{
	Name:      "canary-pod-kill",
	Labels:    []string{LabelDeployment, LabelPodKill, LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultPodKill, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
}

// StablePodKillDuringCanary: a stable pod is killed gracefully while the
// canary runs; the app drains, so service must stay within its SLO.
var StablePodKillDuringCanary = drills.Scenario{
	Name:      "stable-pod-kill-during-canary",
	Labels:    []string{LabelDeployment, LabelPodKill, LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultPodKill, Target: faults.TargetStable, Start: onCanaryTraffic, Graceful: true}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	HoldSLO:   true,
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
}

// CanaryNetworkPartition: iptables rules in the canary pods' network
// namespace drop user traffic; the harness SLO monitor fires the rollback.
var CanaryNetworkPartition = drills.Scenario{
	Name:      "canary-network-partition",
	Labels:    []string{LabelDeployment, LabelPartition, LabelNative, LabelDetectHarn},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultNetworkPartition, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
}

// CanaryNetworkDelay: the canary's answers are delayed past the latency
// SLO; Chaos Mesh NetworkChaos where the kernel allows, Toxiproxy otherwise.
var CanaryNetworkDelay = drills.Scenario{
	Name:   "canary-network-delay",
	Labels: []string{LabelDeployment, LabelDelay, LabelDetectHarn},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []drills.FaultSpec{{Kind: drills.FaultNetworkDelay, Target: faults.TargetCanary, Start: onCanaryTraffic,
		Latency: 600 * time.Millisecond}},
	Detection: rollback.DetectHarness,
	SLO:       drills.SLO{MaxErrorRatio: 0.05, MaxP99: 300 * time.Millisecond, Window: 2 * time.Second, Stability: 10 * time.Second},
	Budget:    45 * time.Second,
}

// CanaryNetworkPartitionChaosMesh is the partition through Chaos Mesh
// NetworkChaos; on hosts whose kernel lacks netem it is skipped with the
// probe's reason.
var CanaryNetworkPartitionChaosMesh = drills.Scenario{
	Name:   "canary-partition-chaosmesh",
	Labels: []string{LabelDeployment, LabelPartition, LabelChaosMesh, LabelDetectHarn},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []drills.FaultSpec{{Kind: drills.FaultNetworkPartition, Backend: drills.BackendChaosMesh,
		Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
}

// CanaryBadImage: the canary is moved to an image that cannot be pulled;
// the machinery rolls back on Kubernetes signals.
var CanaryBadImage = drills.Scenario{
	Name:      "canary-bad-image",
	Labels:    []string{LabelDeployment, LabelBadImage, LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultBadImage, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryConfigDrift: the app's ConfigMap drifts to ERROR_RATIO=1 and the
// canary restarts (a native pod-kill) onto it; the harness rolls back.
var CanaryConfigDrift = drills.Scenario{
	Name:   "canary-config-drift",
	Labels: []string{LabelDeployment, "fault:config-drift", LabelNative, LabelDetectHarn},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []drills.FaultSpec{
		{Kind: drills.FaultConfigDrift, Target: faults.TargetCanary, Start: onCanaryTraffic, Config: map[string]string{"ERROR_RATIO": "1"}},
		{Kind: drills.FaultPodKill, Backend: drills.BackendNative, Target: faults.TargetCanary, Start: drills.Start{When: drills.StartAtCanary}},
	},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryCrashloopConfig: the canary Deployment is reconfigured to crash on
// start; the machinery rolls back on Kubernetes signals.
var CanaryCrashloopConfig = drills.Scenario{
	Name:      "canary-crashloop-config",
	Labels:    []string{LabelDeployment, LabelCrashloop, LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultCrashLoop, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryUnready: the canary stops reporting ready; Kubernetes takes it out
// of the Service and users must not notice.
var CanaryUnready = drills.Scenario{
	Name:      "canary-unready",
	Labels:    []string{LabelDeployment, "fault:unready", LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultUnready, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	HoldSLO:   true,
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
}

// NodePauseDuringCanary: the node running the canary is frozen for 5 s
// (docker pause; on one node that is the whole cluster); service must come
// back on its own within the budget.
var NodePauseDuringCanary = drills.Scenario{
	Name:      "node-pause-during-canary",
	Labels:    []string{LabelDeployment, "fault:node-pause", LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultNodePause, Target: faults.TargetCanary, Start: onCanaryTraffic, Duration: 5 * time.Second}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryPodFailure: Chaos Mesh swaps the canary's container for a pause
// image for 10 s; Kubernetes takes it out of the Service and it comes back.
var CanaryPodFailure = drills.Scenario{
	Name:      "canary-pod-failure",
	Labels:    []string{LabelDeployment, "fault:pod-failure", LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultPodFailure, Target: faults.TargetCanary, Start: onCanaryTraffic, Duration: 10 * time.Second}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryContainerKill: Chaos Mesh kills the canary's app container; the
// machinery sees the crash through Kubernetes and rolls the canary back.
var CanaryContainerKill = drills.Scenario{
	Name:      "canary-container-kill",
	Labels:    []string{LabelDeployment, "fault:container-kill", LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []drills.FaultSpec{{Kind: drills.FaultContainerKill, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryTimeShift: Chaos Mesh moves the canary's clock 10 minutes back for
// 15 s; the sample app does not depend on wall time, so the SLO must hold.
var CanaryTimeShift = drills.Scenario{
	Name:   "canary-time-shift",
	Labels: []string{LabelDeployment, "fault:time-shift", LabelChaosMesh, LabelDetectKube},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []drills.FaultSpec{{Kind: drills.FaultTimeShift, Target: faults.TargetCanary, Start: onCanaryTraffic,
		Offset: -10 * time.Minute, Duration: 15 * time.Second}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	HoldSLO:   true,
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
}

// Rollbacks are the drills that roll back a bad canary or a canary hit by
// a fault, and the drills where service must ride the fault out.
var Rollbacks = []drills.Scenario{
	CanaryBadVersion, CanaryCrashloop,
	CanaryPodKill, StablePodKillDuringCanary, CanaryNetworkPartition, CanaryNetworkDelay,
	CanaryNetworkPartitionChaosMesh, CanaryBadImage,
	CanaryConfigDrift, CanaryCrashloopConfig, CanaryUnready, NodePauseDuringCanary,
	CanaryPodFailure, CanaryContainerKill, CanaryTimeShift,
}
