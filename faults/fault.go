package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
)

// Target says which pods of the app a fault hits.
type Target string

const (
	TargetCanary Target = "canary"
	TargetStable Target = "stable"
	TargetBoth   Target = "both"
	// TargetDependency is what the app depends on, outside its own pods:
	// the flag server of the feature-flag machinery. Only a machinery that
	// runs one offers it.
	TargetDependency Target = "dependency"
)

// Validate refuses an unknown target.
func (t Target) Validate() error {
	switch t {
	case TargetCanary, TargetStable, TargetBoth, TargetDependency:
		return nil
	}
	return fmt.Errorf("target %q: want canary, stable, both or dependency", t)
}

// Hits reports whether the target includes the canary (canary true) or the
// stable version's pods; a dependency is neither.
func (t Target) Hits(canary bool) bool {
	if t == TargetDependency {
		return false
	}
	return t == TargetBoth || (t == TargetCanary) == canary
}

// Fault is something injected and later removed.
type Fault interface {
	// Name identifies the fault in reports, e.g. "pod-kill".
	Name() string
	// Backend names the implementation: "chaosmesh" or "native".
	Backend() string
	// Inject starts the fault and returns only once its onset is confirmed,
	// with the instant it was confirmed.
	Inject(ctx context.Context) (time.Time, error)
	// Recover removes the fault. It is idempotent and safe to call when
	// Inject failed or never ran.
	Recover(ctx context.Context) error
	// Verify checks that nothing of the fault is left in the cluster.
	Verify(ctx context.Context) error
}

// Expiry says when a fault must end by itself should the process that
// injected it die: a timer outside the harness undoes it After its
// injection. The engine sets it on every Expiring fault before Inject.
type Expiry struct {
	// Run is the run's ID; every timer of the run is named after it, so
	// that firedrill cleanup finds them.
	Run string
	// After is when the timer fires, from injection: the fault's duration
	// (or, for a fault held until the drill removes it, what is left of
	// the drill's wall-clock cap) plus ExpiryMargin, less ExpiryUndo.
	After time.Duration
	// NodeExec runs commands on a node, for timers that live there (nil on
	// an existing cluster, where such faults have no timer).
	NodeExec Exec
}

// ExpiryMargin is how long past its duration a fault may outlive a dead
// injector. Its timer fires ExpiryUndo before the margin ends, which leaves
// the undo command (docker unpause, iptables -D, a toxic's DELETE) that
// long to finish within it.
const (
	ExpiryMargin = 10 * time.Second
	ExpiryUndo   = 3 * time.Second
)

// Expiring is a native fault that arms an expiry timer before it injects,
// and cancels it when it is recovered. Chaos Mesh faults need none: the
// Chaos Mesh controller enforces their duration, and a fault without one
// lasts until firedrill cleanup deletes its object.
type Expiring interface {
	Fault
	SetExpiry(Expiry)
	// ExpiresBy says what ends the fault by itself, or why nothing does.
	ExpiresBy() string
}

// Bracket injects a fault and records its timings: when injection started,
// when onset was confirmed, and the injection latency between them. The
// fault began inside [Injected, Confirmed]: not before the create call, and
// no later than the confirmation (or than the instant a controller says it
// applied the fault, through an AppliedBy() time.Time method).
func Bracket(ctx context.Context, f Fault, target Target) (reports.FaultRecord, error) {
	rec := reports.FaultRecord{Name: f.Name(), Kind: f.Name(), Backend: f.Backend(), Target: string(target), Injected: time.Now()}
	confirmed, err := f.Inject(ctx)
	if err != nil {
		return rec, fmt.Errorf("inject %s (%s): %w", f.Name(), f.Backend(), err)
	}
	// A controller that records when it applied the fault narrows the
	// bracket: the fault had begun by then.
	if a, ok := f.(interface{ AppliedBy() time.Time }); ok {
		if by := a.AppliedBy(); !by.IsZero() && by.Before(confirmed) && !by.Before(rec.Injected) {
			confirmed = by
		}
	}
	rec.Confirmed = confirmed
	rec.InjectionLatency = reports.Duration(confirmed.Sub(rec.Injected))
	return rec, nil
}
