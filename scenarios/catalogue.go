package scenarios

import (
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/kinds"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Label values used by the catalogue; Ginkgo label filters select on them.
// The suite adds each scenario's machinery label (MachineryLabel) itself.
const (
	LabelBadVersion  = "fault:bad-version"
	LabelCrashloop   = "fault:crashloop"
	LabelDetectHarn  = "detection:harness"
	LabelDetectKube  = "detection:kubernetes"
	LabelCalibration = "calibration"
	// LabelComparison marks the strategy comparison: one bad version
	// under each machinery.
	LabelComparison   = reports.LabelComparison
	LabelInterruption = "interrupt"
	// LabelCrash marks the check that kills drills with SIGKILL.
	LabelCrash     = "crash"
	LabelPodKill   = "fault:pod-kill"
	LabelPartition = "fault:network-partition"
	LabelDelay     = "fault:network-delay"
	LabelBadImage  = "fault:bad-image"
	LabelChaosMesh = "backend:chaosmesh"
	LabelNative    = "backend:native"
	// LabelSerial marks a drill that cannot share the cluster with others
	// (it pauses the node, or installs a controller): it runs alone.
	LabelSerial = "serial"
	// LabelCaught marks a drill whose machinery lies: its verdict must be
	// fail, for a reason its spec asserts exactly.
	LabelCaught = "expect:caught"
)

// defaultSLO: at most 5% errors over a 2s window, restored after 10s clean.
var defaultSLO = drills.SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second, Stability: 10 * time.Second}

var stable = rollback.Version{Name: "v1", Replicas: 3}

// CanaryBadVersion: the canary answers HTTP 500 to every request; the
// harness SLO monitor fires the rollback hook.
var CanaryBadVersion = drills.Scenario{
	Name:      "canary-bad-version",
	Labels:    []string{LabelBadVersion, LabelDetectHarn, LabelComparison},
	Stable:    stable,
	Canary:    rollback.Version{Name: "v2", Replicas: 1},
	Fault:     badVersion,
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
	// A quarter of users hit the canary until it is gone: at most 15 % of
	// requests may fail between injection and restored.
	MaxErrorBudget: 0.15,
}

// CanaryCrashloop: the canary crashes on start; the machinery rolls back on
// Kubernetes signals alone.
var CanaryCrashloop = drills.Scenario{
	Name:      "canary-crashloop",
	Labels:    []string{LabelCrashloop, LabelDetectKube},
	Stable:    stable,
	Canary:    rollback.Version{Name: "v2", Replicas: 1},
	Fault:     crashOnStart,
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// Calibration: the app fails requests for outages of 1, 4 and 9 s, every
// request and 30 % of them; the drills' own estimator must measure each
// within the bound it states. A shorter stability window keeps it quick.
var Calibration = drills.Scenario{
	Name:      "calibration",
	Labels:    []string{LabelCalibration},
	Stable:    rollback.Version{Name: "v1", Replicas: 1},
	SLO:       drills.SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second, Stability: 3 * time.Second},
	Budget:    30 * time.Second,
	Calibrate: drills.DefaultOutages,
	// The outages are the stable version's, by design.
	Guard: drills.Guard{StableErrorRatio: 1},
}

// healthyCanary is a good new version: the injected fault is what goes wrong.
var healthyCanary = rollback.Version{Name: "v2", Replicas: 1}

// onCanaryTraffic starts a fault once the canary serves 10% of requests.
var onCanaryTraffic = faults.Start{When: faults.StartOnCanaryTraffic, Percent: 10}

// CanaryPodKill: Chaos Mesh kills the canary pod while it takes traffic;
// Kubernetes replaces it and service must recover within the budget with
// no rollback.
var CanaryPodKill = drills.Scenario{
	Name:      "canary-pod-kill",
	Labels:    []string{LabelPodKill, LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.PodKill, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
}

// StablePodKillDuringCanary: a stable pod is killed gracefully while the
// canary runs; the app drains, so service must stay within its SLO.
var StablePodKillDuringCanary = drills.Scenario{
	Name:      "stable-pod-kill-during-canary",
	Labels:    []string{LabelPodKill, LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.PodKill, Target: faults.TargetStable, Start: onCanaryTraffic, Graceful: true}},
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
	Labels:    []string{LabelPartition, LabelNative, LabelDetectHarn},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.NetworkPartition, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
}

// CanaryNetworkDelay: the canary's answers are delayed past the latency
// SLO; Chaos Mesh NetworkChaos where the kernel allows, Toxiproxy otherwise.
var CanaryNetworkDelay = drills.Scenario{
	Name:   "canary-network-delay",
	Labels: []string{LabelDelay, LabelDetectHarn},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []faults.Spec{{Kind: kinds.NetworkDelay, Target: faults.TargetCanary, Start: onCanaryTraffic,
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
	Labels: []string{LabelPartition, LabelChaosMesh, LabelDetectHarn},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []faults.Spec{{Kind: kinds.NetworkPartition, Backend: kinds.ChaosMesh,
		Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
}

// CanaryBadImage: the canary is moved to an image that cannot be pulled;
// the machinery rolls back on Kubernetes signals.
var CanaryBadImage = drills.Scenario{
	Name:      "canary-bad-image",
	Labels:    []string{LabelBadImage, LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.BadImage, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryConfigDrift: the app's ConfigMap drifts to ERROR_RATIO=1 and the
// canary restarts (a native pod-kill) onto it; the harness rolls back.
var CanaryConfigDrift = drills.Scenario{
	Name:   "canary-config-drift",
	Labels: []string{"fault:config-drift", LabelNative, LabelDetectHarn},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []faults.Spec{
		{Kind: kinds.ConfigDrift, Start: onCanaryTraffic, Config: map[string]string{appcontract.EnvErrorRatio: "1"}},
		{Kind: kinds.PodKill, Backend: kinds.Native, Target: faults.TargetCanary, Start: faults.Start{When: faults.StartAtCanary}},
	},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryCrashloopConfig: the canary Deployment is reconfigured to crash on
// start; the machinery rolls back on Kubernetes signals.
var CanaryCrashloopConfig = drills.Scenario{
	Name:      "canary-crashloop-config",
	Labels:    []string{LabelCrashloop, LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.CrashLoop, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryUnready: the canary stops reporting ready; Kubernetes takes it out
// of the Service and users must not notice.
var CanaryUnready = drills.Scenario{
	Name:      "canary-unready",
	Labels:    []string{"fault:unready", LabelNative, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.Unready, Target: faults.TargetCanary, Start: onCanaryTraffic}},
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
	Labels:    []string{"fault:node-pause", LabelNative, LabelDetectKube, LabelSerial},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.NodePause, Target: faults.TargetCanary, Start: onCanaryTraffic, Duration: 5 * time.Second}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryPodFailure: Chaos Mesh swaps the canary's container for a pause
// image for 10 s. The swapped container crash-loops, which is the
// canary-hook's Kubernetes signal: it rolls the canary back. (Judged as a
// steady drill, it was a machinery that rolled back while the drill said it
// had not.)
var CanaryPodFailure = drills.Scenario{
	Name:      "canary-pod-failure",
	Labels:    []string{"fault:pod-failure", LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.PodFailure, Target: faults.TargetCanary, Start: onCanaryTraffic, Duration: 10 * time.Second}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryContainerKill: Chaos Mesh kills the canary's app container; the
// machinery sees the crash through Kubernetes and rolls the canary back.
var CanaryContainerKill = drills.Scenario{
	Name:      "canary-container-kill",
	Labels:    []string{"fault:container-kill", LabelChaosMesh, LabelDetectKube},
	Stable:    stable,
	Canary:    healthyCanary,
	Faults:    []faults.Spec{{Kind: kinds.ContainerKill, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// CanaryTimeShift: Chaos Mesh moves the canary's clock 10 minutes back for
// 15 s; the sample app does not depend on wall time, so the SLO must hold.
var CanaryTimeShift = drills.Scenario{
	Name:   "canary-time-shift",
	Labels: []string{"fault:time-shift", LabelChaosMesh, LabelDetectKube},
	Stable: stable,
	Canary: healthyCanary,
	Faults: []faults.Spec{{Kind: kinds.TimeShift, Target: faults.TargetCanary, Start: onCanaryTraffic,
		Offset: -10 * time.Minute, Duration: 15 * time.Second}},
	Detection: rollback.DetectKubernetes,
	Expect:    drills.ExpectSteady,
	HoldSLO:   true,
	SLO:       defaultSLO,
	Budget:    30 * time.Second,
}

// newVersion is the bad new version under machineries that size it
// themselves (rollout-undo, blue-green).
var newVersion = rollback.Version{Name: "v2"}

// badVersion answers HTTP 500 to every request.
// crashOnStart: the new version exits on start, so it never becomes ready.
var crashOnStart = drills.CanaryFault{Kind: "crashloop", Env: map[string]string{appcontract.EnvCrashOnStart: "true"}, Onset: drills.OnsetCanaryCrashes}

var badVersion = drills.CanaryFault{Kind: "bad-version", Env: map[string]string{appcontract.EnvErrorRatio: "1"}, Onset: drills.OnsetCanaryServesErrors}

// UndoBadVersion: the rolling update brings in a version that fails every
// request; the harness SLO monitor calls the pipeline's alert hook, which
// undoes the rollout to the previous digest.
var UndoBadVersion = drills.Scenario{
	Name:      "undo-bad-version",
	Machinery: rollback.RolloutUndo,
	Labels:    []string{LabelBadVersion, LabelDetectHarn, LabelComparison},
	Stable:    stable,
	Canary:    newVersion,
	Fault:     badVersion,
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// UndoCrashloop: the new version crashes on start; the rollout stalls and
// the machinery undoes it on Kubernetes signals alone.
var UndoCrashloop = drills.Scenario{
	Name:      "undo-crashloop",
	Machinery: rollback.RolloutUndo,
	Labels:    []string{LabelCrashloop, LabelDetectKube},
	Stable:    stable,
	Canary:    newVersion,
	Fault:     crashOnStart,
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// UndoBadImage: the new version names an image that cannot be pulled; the
// rollout stalls on ErrImagePull and the machinery undoes it.
var UndoBadImage = drills.Scenario{
	Name:      "undo-bad-image",
	Machinery: rollback.RolloutUndo,
	Labels:    []string{LabelBadImage, LabelDetectKube},
	Stable:    stable,
	Canary:    rollback.Version{Name: "v2", Image: appcontract.BadImage},
	Fault:     drills.CanaryFault{Kind: "bad-image", Onset: drills.OnsetCanaryCrashes},
	Detection: rollback.DetectKubernetes,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// UndoNetworkPartition is the iptables partition under rollout-undo: the
// fault finds the new version's pods through the machinery's placement.
var UndoNetworkPartition = drills.Scenario{
	Name:      "undo-network-partition",
	Machinery: rollback.RolloutUndo,
	Labels:    []string{LabelPartition, LabelNative, LabelDetectHarn},
	Stable:    stable,
	Canary:    newVersion,
	Faults:    []faults.Spec{{Kind: kinds.NetworkPartition, Target: faults.TargetCanary, Start: onCanaryTraffic}},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    60 * time.Second,
}

// greenGoesBad is how long green serves well before it fails: longer than
// its start, smoke check and switch take.
const greenGoesBad = "15s"

// BlueGreenBadVersion: green passes its smoke check, takes users, then
// fails every request; the harness SLO monitor flips the selector back.
var BlueGreenBadVersion = drills.Scenario{
	Name:      "bluegreen-bad-version",
	Machinery: rollback.BlueGreen,
	Labels:    []string{LabelBadVersion, LabelDetectHarn, LabelComparison},
	Stable:    stable,
	Canary:    newVersion,
	Fault: drills.CanaryFault{Kind: "bad-version", Onset: drills.OnsetCanaryServesErrors,
		Env: map[string]string{appcontract.EnvErrorRatio: "1", appcontract.EnvFaultAfter: greenGoesBad}},
	Detection: rollback.DetectHarness,
	SLO:       defaultSLO,
	Budget:    45 * time.Second,
}

// BlueGreenLatency: once green takes users, its answers are delayed past
// the latency SLO; the selector flips back to blue.
var BlueGreenLatency = drills.Scenario{
	Name:      "bluegreen-latency",
	Machinery: rollback.BlueGreen,
	Labels:    []string{LabelDelay, LabelDetectHarn},
	Stable:    stable,
	Canary:    newVersion,
	Faults: []faults.Spec{{Kind: kinds.NetworkDelay, Target: faults.TargetCanary, Start: onCanaryTraffic,
		Latency: 600 * time.Millisecond}},
	Detection: rollback.DetectHarness,
	SLO:       drills.SLO{MaxErrorRatio: 0.05, MaxP99: 300 * time.Millisecond, Window: 2 * time.Second, Stability: 10 * time.Second},
	Budget:    45 * time.Second,
}

// machineryDrill is the shape every drill of one machinery shares: the
// machinery, its detection with that detection's label, the stable and the
// new version, and the default SLO. argo and flag fill it in.
func machineryDrill(name, machinery string, detection rollback.Detection, detectionLabel string, stable, canary rollback.Version, labels ...string) drills.Scenario {
	return drills.Scenario{
		Name: name, Machinery: machinery,
		Labels: append(labels, detectionLabel),
		Stable: stable, Canary: canary,
		Detection: detection,
		SLO:       defaultSLO,
	}
}

// MachineryLabel is the label that selects a scenario's machinery, e.g.
// "machinery:rollout-undo".
func MachineryLabel(s drills.Scenario) string { return "machinery:" + s.MachineryName() }

// Rollbacks are the drills that roll back a bad canary or a canary hit by
// a fault, and the drills where service must ride the fault out.
var Rollbacks = append([]drills.Scenario{
	CanaryBadVersion, CanaryCrashloop,
	CanaryPodKill, StablePodKillDuringCanary, CanaryNetworkPartition, CanaryNetworkDelay,
	CanaryNetworkPartitionChaosMesh, CanaryBadImage,
	CanaryConfigDrift, CanaryCrashloopConfig, CanaryUnready, NodePauseDuringCanary,
	CanaryPodFailure, CanaryContainerKill, CanaryTimeShift,
	UndoBadVersion, UndoCrashloop, UndoBadImage, UndoNetworkPartition,
	BlueGreenBadVersion, BlueGreenLatency,
}, append(ArgoRollbacks, FlagRollbacks...)...)

// All is the whole catalogue: the rollback drills, the calibration drill
// and the drills whose machinery lies.
func All() []drills.Scenario {
	return slices.Concat(Rollbacks, []drills.Scenario{Calibration}, ArgoCaught, FlagCaught, FlaggerDrills)
}
