package rollback

import (
	"context"
	"fmt"
	"time"
)

// Detection says what tells the machinery that the canary is bad.
type Detection string

const (
	// DetectKubernetes uses Kubernetes signals only: canary pods crashing or
	// not Ready, or the Deployment's progress deadline exceeded.
	DetectKubernetes Detection = "kubernetes"
	// DetectHarness delegates detection to the harness SLO monitor, which
	// fires the rollback hook.
	DetectHarness Detection = "harness"
)

// Validate refuses an unknown detection mode.
func (d Detection) Validate() error {
	switch d {
	case DetectKubernetes, DetectHarness:
		return nil
	}
	return fmt.Errorf("unknown detection %q: want %q or %q", d, DetectKubernetes, DetectHarness)
}

// DetectedByHarness is how a report labels detection delegated to the harness.
const DetectedByHarness = "harness SLO monitor"

// Version is one version of the app: its name (served in X-App-Version),
// replica count and environment (where the sample app's fault knobs go).
type Version struct {
	Name     string
	Replicas int32
	Env      map[string]string
}

// Outcome is what the machinery did: why and when it decided to roll back,
// and when the rollback was complete.
type Outcome struct {
	// DetectedBy names what detected the bad canary.
	DetectedBy string
	// Reason is the signal or alert that led to the decision.
	Reason string
	// Decided is when the machinery chose to roll back.
	Decided time.Time
	// Actuated is when the rollback was complete: canary at zero and the
	// stable version fully ready.
	Actuated time.Time
}

// Machinery is the thing whose job is to roll back.
type Machinery interface {
	// Name identifies the machinery in reports, e.g. "deployment".
	Name() string
	// DeployStable deploys the known-good version and its Service and returns
	// once every stable pod is Ready.
	DeployStable(ctx context.Context, stable Version) error
	// StartCanary starts the new version next to the stable one.
	StartCanary(ctx context.Context, canary Version) error
	// Trigger is the rollback hook the harness SLO monitor fires when the
	// scenario delegates detection to the harness. It never blocks.
	Trigger(reason string)
	// AwaitRollback blocks until the machinery has decided and actuated a
	// rollback, or ctx ends.
	AwaitRollback(ctx context.Context) (Outcome, error)
}
