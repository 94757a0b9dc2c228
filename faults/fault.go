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

// Selector returns the pod label selector of the target within the app.
func (t Target) Selector(app string) (string, error) {
	switch t {
	case TargetCanary, TargetStable:
		return "app=" + app + ",track=" + string(t), nil
	case TargetBoth:
		return "app=" + app, nil
	}
	return "", fmt.Errorf("fault target %q: want canary, stable or both", t)
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
// when onset was confirmed, and the injection latency between them.
func Bracket(ctx context.Context, f Fault, target Target) (reports.FaultRecord, error) {
	rec := reports.FaultRecord{Name: f.Name(), Kind: f.Name(), Backend: f.Backend(), Target: string(target), Injected: time.Now()}
	confirmed, err := f.Inject(ctx)
	if err != nil {
		return rec, fmt.Errorf("inject %s (%s): %w", f.Name(), f.Backend(), err)
	}
	rec.Confirmed = confirmed
	rec.InjectionLatency = reports.Duration(confirmed.Sub(rec.Injected))
	return rec, nil
}
