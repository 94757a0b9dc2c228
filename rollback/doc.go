// Package rollback holds the machineries whose job is to roll back a bad
// new version, behind one Machinery interface, and the registry scenarios
// choose them from by name (Register, Lookup). Each machinery is one file
// that registers itself in init: canaryhook.go, rolloutundo.go,
// bluegreen.go, argorollouts.go (with argoconfig.go, the team's analysis
// file, argoanalysis.go, the AnalysisRun watch, and argoinstall.go and
// prometheus.go, the controller and the metrics server the suite installs).
// workload.go is the sample app as every machinery deploys it
// (ConfigMap, Services, pod templates), so a machinery's rollback logic
// does not depend on the workload's details.
//
// # Writing a machinery
//
// Register a Spec with a Name, a Check and a New. Check runs before
// anything is created: it refuses, with one line naming the field, a Plan
// the machinery cannot honour (canary replicas it does not use, a detection
// it does not offer). Set Separate when each version runs in a Deployment
// of its own; fault kinds that reconfigure a version's Deployment need it.
// New must create nothing in the cluster. The drill then calls, in order:
//
//   - Name: what reports and the machinery:<name> label say. Constant.
//   - Placement: where the stable and the new version run, as label
//     selectors that match one version's pods and no other's, and the
//     Deployment that runs a version alone ("" if they share one). Faults,
//     onset checks and the served-version check use it and never hard-code
//     labels. It is valid from New on and never changes.
//   - DeployStable: deploys the known-good version and the user Service (the
//     NodePort in Env) and returns only once the stable version serves:
//     every stable pod Ready.
//   - StartCanary: starts the new version the way the machinery does (a
//     second Deployment, a rolling update, a switch after a smoke check).
//     It returns once users can reach the new version, or with an error.
//   - AwaitRollback: runs in the background from canary start until the
//     drill ends (its context is cancelled). It waits for the decision: the
//     machinery's own signals when Env.Detection is DetectKubernetes, or the
//     alert hook when it is DetectHarness. It then rolls back and returns
//     an Outcome with Decided (the instant it chose to roll back, from its
//     own evidence: a watch event, the hook, a selector flip), Actuated
//     (the instant its rollback was complete as the API shows it; each
//     machinery's doc comment says what complete means), Actuation (the
//     same in words) and Evidence (digests, selectors, conditions). It
//     never reads the harness observer's data; with DetectHarness the
//     report labels detection "harness SLO monitor".
//   - Trigger: the alert hook, like a webhook a pipeline exposes. It never
//     blocks, keeps the first alert of an incident, and returns an error
//     when the alert cannot be delivered (the machinery's detection is not
//     delegated, the context ended, a real webhook failed): the drill
//     records that error on the timeline.
//   - Serving: what the machinery routes users to now, from its own state
//     (replica counts, a Service selector, a Rollout's weights), with the
//     detail of how it knows. Steady drills use it to prove no rollback
//     happened; rollback drills compare it with what users saw.
//
// Three optional interfaces let a machinery say more:
//
//   - Preflighter: Preflight runs before the drill writes anything and
//     refuses, in one line, a cluster that cannot run the machinery (its
//     controller or CRD missing, a query its metrics server refuses).
//   - Assessor: Assess says what the machinery thinks of the new version
//     while it has not decided. When the budget runs out with no decision
//     and the machinery calls the new version healthy, the drill records
//     that it declared a failing version healthy.
//   - Witness: Objects are the machinery's own objects kept as evidence.
//
// A machinery that detects by itself (DetectAnalysis) sets Outcome.Detected
// to when its watch saw the first failed check; one that promotes the new
// version instead of rolling back returns an Outcome with Promoted set.
// Spec.Needs names the backends it needs installed (BackendArgoRollouts,
// BackendPrometheus).
//
// A machinery must be safe against a cancelled context at every step and
// must not delete anything: the drill deletes its namespace at cleanup.
package rollback
