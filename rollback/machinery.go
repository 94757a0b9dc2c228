package rollback

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Detection says what tells the machinery that the new version is bad.
type Detection string

const (
	// DetectKubernetes uses Kubernetes signals only: new pods crashing or
	// unable to start, or the progress deadline exceeded.
	DetectKubernetes Detection = "kubernetes"
	// DetectHarness delegates detection to the harness SLO monitor, which
	// calls the machinery's alert hook (Trigger), like an alert webhook.
	DetectHarness Detection = "harness"
)

// Validate refuses an unknown detection mode.
func (d Detection) Validate() error {
	switch d {
	case DetectKubernetes, DetectHarness, DetectAnalysis:
		return nil
	}
	return fmt.Errorf("unknown detection %q: want %q, %q or %q", d, DetectKubernetes, DetectHarness, DetectAnalysis)
}

// DetectedByHarness is how a report labels detection delegated to the harness.
const DetectedByHarness = "harness SLO monitor"

// DetectedByKubernetes is how a report labels detection from Kubernetes signals.
const DetectedByKubernetes = "kubernetes signals"

// Version is one version of the app: its name (served in X-App-Version and
// put on its pods as the version label), its image, its replica count and
// its environment (where the sample app's fault knobs go).
type Version struct {
	Name string
	// Image is the version's image; empty takes the machinery's default
	// image, so two versions may differ by image, by environment, or both.
	Image    string
	Replicas int32
	Env      map[string]string
}

// Evidence is one fact a machinery shows for its decision or actuation: a
// digest, a selector, a Rollout condition, a flag acknowledgement.
type Evidence struct {
	Name  string
	Value string
}

// Outcome is what the machinery did: why and when it decided to roll back,
// when the rollback was complete, and its own evidence for both.
type Outcome struct {
	// DetectedBy names what detected the bad version.
	DetectedBy string
	// Reason is the signal or alert that led to the decision.
	Reason string
	// Detected, when the machinery detects by itself (DetectAnalysis), is
	// when its watch saw the first failed check; DetectedDetail says which
	// check, in the machinery's words, and DetectedBefore how long before
	// the watch saw it the check may have failed.
	Detected       time.Time
	DetectedDetail string
	DetectedBefore time.Duration
	// Promoted says the machinery declared the new version healthy and
	// promoted it instead of rolling back; Decided is then the promotion,
	// and there is no actuation.
	Promoted bool
	// Decided is when the machinery chose to roll back.
	Decided time.Time
	// Actuated is when the rollback was complete, in the machinery's own
	// terms (see each machinery's doc).
	Actuated time.Time
	// Actuation says what "actuated" meant here, for the timeline.
	Actuation string
	// Evidence is the machinery's own record of the rollback.
	Evidence []Evidence
}

// Where is where one version's pods run.
type Where struct {
	// Selector matches this version's pods and no other's.
	Selector string
	// Labels is Selector as a label map.
	Labels map[string]string
	// Deployment is the Deployment that runs this version alone, or "" when
	// the version shares its Deployment with the other one.
	Deployment string
}

// Placement tells the drill where the stable and the new version run, so
// faults, onset checks and the served-version check never hard-code labels.
type Placement struct {
	Stable, Canary Where
	// All matches the pods of both versions.
	All string
	// ConfigMap is the app configuration every pod reads at start.
	ConfigMap string
	// Dependency is where what the app depends on runs (the flag server),
	// for faults that target it; empty when the machinery runs none.
	Dependency Where
	// Test is a Service that reaches the new version alone, for test
	// traffic that users never send (Flagger's canary Service); empty when
	// users reach the new version themselves.
	Test string
}

// Serving is what the machinery routes users to now, from its own state
// (replica counts, a Service selector, a Rollout's weights).
type Serving struct {
	// Versions are the names of the versions that take user traffic.
	Versions []string
	// Detail says how the machinery knows, for failure messages.
	Detail string
}

// Has reports whether version takes user traffic.
func (s Serving) Has(version string) bool { return slices.Contains(s.Versions, version) }

// Machinery is the thing whose job is to roll back. The contract of each
// method is in doc.go.
type Machinery interface {
	Name() string
	DeployStable(ctx context.Context, stable Version) error
	StartCanary(ctx context.Context, canary Version) error
	Placement() Placement
	Serving(ctx context.Context) (Serving, error)
	Trigger(ctx context.Context, reason string) error
	AwaitRollback(ctx context.Context) (Outcome, error)
}

// Preflighter is a machinery that checks, before the drill writes anything,
// that the cluster can run it: its controller is installed, its
// configuration is one the cluster accepts. Its errors are one line.
type Preflighter interface {
	Preflight(ctx context.Context) error
}

// Assessor is a machinery that can say, while it has not decided, what it
// thinks of the new version. A drill asks once the budget has run out with
// no decision, to tell a machinery that declared a failing version healthy
// from one that is merely slow.
type Assessor interface {
	Assess(ctx context.Context) (Assessment, error)
}

// Assessment is a machinery's view of the new version before it decides.
type Assessment struct {
	// Healthy says its own checks pass the new version.
	Healthy bool
	// Settled says it has stopped acting by itself: it will neither
	// promote nor roll back unless something changes (it stalled on a
	// deadline, or waits for a person). A machinery still working through
	// its plan is not settled.
	Settled bool
	// Detail says so in the machinery's words.
	Detail string
}

// Witness is a machinery with objects of its own worth keeping when a
// drill ends (a Rollout, its AnalysisRuns): file name to object.
type Witness interface {
	Objects(ctx context.Context) map[string]any
}

// Describer is a machinery that can list, for a plan, the objects it
// creates in the drill namespace, as "Kind name (what)".
type Describer interface {
	Creates() []string
}
