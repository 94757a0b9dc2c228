package scenarios

import (
	"embed"
	"time"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/kinds"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/rollback"
)

// LabelDetectAnalysis marks a drill whose machinery detects by its own
// analysis.
const LabelDetectAnalysis = "detection:analysis"

// argoFiles are the analyses of the Argo drills, in the same format a team
// points -firedrill.argo-config at.
//
//go:embed argo/*.yaml
var argoFiles embed.FS

func argoConfig(name string) rollback.Config {
	data, err := argoFiles.ReadFile("argo/" + name)
	if err != nil {
		panic("scenarios: " + err.Error())
	}
	return rollback.Config{Name: name, Data: data}
}

// argoStable is the stable version under Argo: four replicas, so the first
// setWeight: 25 step is exactly one canary pod beside three stable ones.
var argoStable = rollback.Version{Name: "v1", Replicas: 4}

// argoCanary is the new version; Argo sizes it from the steps.
var argoCanary = rollback.Version{Name: "v2"}

// argo is the shape every Argo drill shares: the real controller, deciding
// from its own analysis.
func argo(name string, labels ...string) drills.Scenario {
	return machineryDrill(name, rollback.ArgoRollouts, rollback.DetectAnalysis, LabelDetectAnalysis, argoStable, argoCanary, labels...)
}

// ArgoBadVersion: the canary answers 500s; the default analysis (the
// canary's error ratio from Prometheus) fails and the controller aborts.
var ArgoBadVersion = func() drills.Scenario {
	s := argo("argo-bad-version", LabelBadVersion, LabelComparison)
	s.Fault, s.Budget = badVersion, 45*time.Second
	return s
}()

// ArgoLatency: the canary answers 500 ms late; the analysis's p99 metric
// catches it.
var ArgoLatency = func() drills.Scenario {
	s := argo("argo-latency", LabelDelay)
	s.Fault = drills.CanaryFault{Kind: "latency", Env: map[string]string{appcontract.EnvLatency: "500ms"}, Onset: drills.OnsetCanarySlow}
	s.SLO = drills.SLO{MaxErrorRatio: 0.05, MaxP99: 300 * time.Millisecond, Window: 2 * time.Second, Stability: 10 * time.Second}
	s.MachineryConfig, s.Budget = argoConfig("latency.yaml"), 45*time.Second
	return s
}()

// ArgoCrashloop: the canary never becomes ready. Its error-ratio query has
// no canary traffic to count, so every measurement errors; three in a row
// fail the analysis and the controller aborts (README: what Argo does).
var ArgoCrashloop = func() drills.Scenario {
	s := argo("argo-crashloop", LabelCrashloop)
	s.Fault, s.Budget = crashOnStart, 60*time.Second
	return s
}()

// ArgoPodKillSteady: Chaos Mesh kills a canary pod gracefully during a
// healthy canary; the rollout must complete with no abort, the SLO held.
var ArgoPodKillSteady = func() drills.Scenario {
	s := argo("argo-pod-kill-steady", LabelPodKill, LabelChaosMesh)
	s.Faults = []faults.Spec{{Kind: kinds.PodKill, Target: faults.TargetCanary, Start: onCanaryTraffic, Graceful: true}}
	s.Expect, s.HoldSLO, s.Budget = drills.ExpectPromoted, true, 30*time.Second
	// Holding the SLO through a whole rollout is sensitive to the host
	// stalls that neighbouring drills cause on two cores: it runs alone.
	s.Labels = append(s.Labels, LabelSerial)
	return s
}()

// ArgoPartition (expect:caught): iptables in the canary pod's network
// namespace drop the user port, which is also where Prometheus scrapes
// /metrics, 19 s after the canary starts: once the analysis has measured
// the canary healthy. Requests that never arrive are never counted: the
// analysis keeps succeeding, the controller advances the steps and then
// hangs at setWeight 50, waiting for the cut-off pod, with neither an abort
// nor a promotion. The README says why, and what happens when the
// partition comes before Prometheus ever scraped the pod.
var ArgoPartition = func() drills.Scenario {
	s := argo("argo-partition", LabelCaught, LabelPartition, LabelNative)
	s.Faults = []faults.Spec{{Kind: kinds.NetworkPartition, Target: faults.TargetCanary,
		Start: faults.Start{When: faults.StartAfter, After: argoAnalysedHealthy}}}
	s.Budget = 45 * time.Second
	return s
}()

// argoAnalysedHealthy is when the default analysis has measured a healthy
// canary twice (15 s initial delay, 2 s interval), and the first pause
// (20 s) still holds one canary pod.
const argoAnalysedHealthy = 19 * time.Second

// ArgoMisaimedAnalysis (expect:caught): the analysis checks the canary's
// /healthz, which a bad canary passes; the controller promotes it.
var ArgoMisaimedAnalysis = func() drills.Scenario {
	s := argo("argo-misaimed-analysis", LabelCaught, LabelBadVersion)
	s.Fault, s.Budget = badVersion, 45*time.Second
	s.MachineryConfig = argoConfig("misaimed.yaml")
	return s
}()

// ArgoAnalysisNotJSON (expect:caught): a web metric against an endpoint
// that answers non-JSON; v1.10.x counts it Successful (#4535).
var ArgoAnalysisNotJSON = func() drills.Scenario {
	s := argo("argo-analysis-not-json", LabelCaught, LabelBadVersion)
	s.Fault, s.Budget = badVersion, 45*time.Second
	s.MachineryConfig = argoConfig("not-json.yaml")
	return s
}()

// ArgoRollbacks are the Argo drills that roll back or ride a fault out;
// ArgoCaught are those whose analysis lies.
var (
	ArgoRollbacks = []drills.Scenario{ArgoBadVersion, ArgoLatency, ArgoCrashloop, ArgoPodKillSteady}
	ArgoCaught    = []drills.Scenario{ArgoMisaimedAnalysis, ArgoAnalysisNotJSON, ArgoPartition}
)
