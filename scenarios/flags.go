package scenarios

import (
	"time"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/kinds"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/rollback"
)

// flagCanary is the new code path: the stable pods with the flag on for a
// share of users, so it has no replicas of its own.
var flagCanary = rollback.Version{Name: "v2"}

// flag is the shape every kill-switch drill shares: the real flag server,
// the harness SLO monitor as the alert that throws the switch.
func flag(name string, labels ...string) drills.Scenario {
	s := machineryDrill(name, rollback.FeatureFlag, rollback.DetectHarness, LabelDetectHarn, stable, flagCanary, labels...)
	s.Budget = 30 * time.Second
	return s
}

// FlagKillBadPath: the new path answers 500s for the quarter of users the
// flag turns it on for; the kill switch turns it off everywhere.
var FlagKillBadPath = func() drills.Scenario {
	s := flag("flag-kill-bad-path", LabelBadVersion, LabelComparison)
	s.Fault = badVersion
	return s
}()

// FlagKillLatency: the new path answers 600 ms late, past the latency SLO.
var FlagKillLatency = func() drills.Scenario {
	s := flag("flag-kill-latency", LabelDelay)
	s.Fault = drills.CanaryFault{Kind: "slow-path", Env: map[string]string{appcontract.EnvLatency: "600ms"}, Onset: drills.OnsetCanarySlow}
	s.SLO = drills.SLO{MaxErrorRatio: 0.05, MaxP99: 300 * time.Millisecond, Window: 2 * time.Second, Stability: 10 * time.Second}
	return s
}()

// FlagServerDown: the flag server's pod fails (Chaos Mesh pod-failure)
// while the flag is on for a quarter of users on a healthy new path. The
// app must fall back to the flag's default, off: the new path goes dark,
// nobody sees an error, and nothing rolls back.
var FlagServerDown = func() drills.Scenario {
	s := flag("flag-server-down", "fault:pod-failure", LabelChaosMesh)
	s.Faults = []faults.Spec{{Kind: kinds.PodFailure, Target: faults.TargetDependency, Start: onCanaryTraffic, Duration: 15 * time.Second}}
	s.Expect, s.HoldSLO, s.CanaryDark = drills.ExpectSteady, true, true
	return s
}()

// FlagRollbacks are the kill-switch drills.
var FlagRollbacks = []drills.Scenario{FlagKillBadPath, FlagKillLatency, FlagServerDown}

// FlagConfigMapVolume is the contrast: the same kill switch, but the flag
// server reads the flags from the ConfigMap mounted as a volume, which the
// kubelet rewrites only on its sync, a minute or more later. Against a 30 s
// budget it must fail, and its spec asserts that failure and its reason.
var FlagConfigMapVolume = func() drills.Scenario {
	s := flag("flag-configmap-volume", LabelBadVersion, LabelCaught)
	s.Fault = badVersion
	s.MachineryConfig = rollback.Config{Name: rollback.FlagSourceVolume}
	return s
}()

// FlagCaught are the kill switches too slow for their budget.
var FlagCaught = []drills.Scenario{FlagConfigMapVolume}
