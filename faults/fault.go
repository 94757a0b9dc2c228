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
)

// Validate refuses an unknown target.
func (t Target) Validate() error {
	switch t {
	case TargetCanary, TargetStable, TargetBoth:
		return nil
	}
	return fmt.Errorf("target %q: want canary, stable or both", t)
}

// Hits reports whether the target includes the canary (canary true) or the
// stable version's pods.
func (t Target) Hits(canary bool) bool {
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
