package drills

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Result is what a drill measured once service was restored.
type Result struct {
	// DetectedBy and Reason come from the machinery's decision.
	DetectedBy string
	Reason     string
	// Marks are the five MTTR instants and t0.
	Marks Marks
	// MTTR is nil when it could not be computed; MTTRErr says why.
	MTTR    *reports.MTTR
	MTTRErr string
	// ErrorBudget counts failed requests between onset and restored.
	ErrorBudget reports.ErrorBudget
	// ServedAfter is the version that answered users after restored, or a
	// breakdown when more than one did.
	ServedAfter string
	// Calibration is set by calibration drills.
	Calibration *Calibration
	// Breached says whether the SLO was breached at all after onset.
	Breached bool
	// Evidence is the machinery's own record of its rollback.
	Evidence []rollback.Evidence
	// Serving is what the machinery said it served once service was
	// restored, with how it knows.
	Serving rollback.Serving
	// RolledBack, for a steady drill, says how the machinery rolled back
	// although it should not have; "" when it kept the canary.
	RolledBack string
}

// ConfirmRestored keeps observing until service is restored: the SLO holds
// continuously for the stability window. Service counts as restored only
// once the rollback has actuated: a bad canary that is still deployed is not
// a restored service, even while the SLO happens to hold.
func (d *Drill) ConfirmRestored(ctx context.Context) error {
	onset, okOnset := d.event(EventOnset)
	actuated, okActuated := d.event(EventActuated)
	if d.Scenario.Expect == ExpectSteady {
		// No rollback: service must come back on its own, measured from onset.
		actuated, okActuated = onset, okOnset
	}
	if !okOnset || !okActuated {
		return errors.New("confirm restored: onset and actuation must be recorded first")
	}
	slo, interval := d.Scenario.SLO, d.observer.Interval()
	var restored time.Time
	err := phase(ctx, "confirm restored", d.opts.Timeouts.Restore, func(ctx context.Context) error {
		return wait.PollUntilContextCancel(ctx, pollEvery*5, true, func(context.Context) (bool, error) {
			restored = restoredAfter(d.observer.Samples(), slo, actuated, interval)
			return !restored.IsZero(), nil
		})
	})
	samples := d.observer.Stop()
	if err != nil {
		return fmt.Errorf("%w: the SLO never held for %s after the rollback", err, slo.stability())
	}
	a := Analyze(samples, slo, onset, interval)
	detected := a.Detected
	if detected.IsZero() {
		if decided, ok := d.event(EventDecided); ok {
			d.record(EventDetected, decided, "no SLO breach seen by users; detected by the machinery")
		}
	} else {
		d.record(EventDetected, detected, "first SLO breach")
	}
	d.record(EventRestored, restored, fmt.Sprintf("SLO held for %s", slo.stability()))
	d.finishResult(samples, interval, a.Breached)
	return d.readMachinery(ctx)
}

// readMachinery asks the machinery what it serves now and, for a steady
// drill, whether it rolled back anyway.
func (d *Drill) readMachinery(ctx context.Context) error {
	if d.Scenario.Calibrate > 0 {
		return nil
	}
	serving, err := d.machinery.Serving(ctx)
	if err != nil {
		return fmt.Errorf("ask %s what it serves: %w", d.machinery.Name(), err)
	}
	var rolledBack string
	if d.Scenario.Expect == ExpectSteady {
		rolledBack = d.steadyRollback(serving)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.result.Serving, d.result.RolledBack = serving, rolledBack
	return nil
}

// steadyRollback says how the machinery rolled back in a steady drill: it
// reported a rollback, or it no longer serves the canary.
func (d *Drill) steadyRollback(serving rollback.Serving) string {
	select {
	case r := <-d.outcome:
		if r.err == nil {
			d.record(EventDecided, r.out.Decided, "unexpected rollback: "+r.out.DetectedBy+": "+r.out.Reason)
			return fmt.Sprintf("the machinery rolled back at t0%+.3fs (%s: %s)", r.out.Decided.Sub(d.t0).Seconds(), r.out.DetectedBy, r.out.Reason)
		}
		d.outcome <- r
	default:
	}
	if !serving.Has(d.Scenario.Canary.Name) {
		return fmt.Sprintf("the machinery rolled back: it no longer serves canary %s (%s)", d.Scenario.Canary.Name, serving.Detail)
	}
	return ""
}

// restoredAfter returns the first instant at or after actuated from which
// the SLO holds for the stability window, or zero while that is not known.
func restoredAfter(samples []Sample, slo SLO, actuated time.Time, interval time.Duration) time.Time {
	if len(samples) == 0 || samples[len(samples)-1].At.Before(actuated.Add(slo.stability())) {
		return time.Time{}
	}
	a := Analyze(samples, slo, actuated, interval)
	if a.NoTraffic() {
		return time.Time{}
	}
	// A breach that starts after a full stability window is a new incident,
	// not part of this one.
	if !a.Breached || a.Detected.After(actuated.Add(slo.stability())) {
		return actuated
	}
	return a.Restored
}

func (d *Drill) finishResult(samples []Sample, interval time.Duration, breached bool) {
	m := d.marks()
	res := d.resultCopy()
	res.Marks, res.Breached = m, breached
	if d.Scenario.Expect == ExpectSteady && !m.Detected.IsZero() {
		// No machinery acts in a steady drill: from detection on, the time
		// is all self-recovery, not decide or actuate.
		m.Decided, m.Actuated = m.Detected, m.Detected
	}
	mttr, err := ComputeMTTR(m, interval, d.Scenario.Budget)
	if err != nil {
		res.MTTRErr = err.Error()
	} else {
		res.MTTR = &mttr
	}
	// With no breach, restored is onset itself; the budget then covers the
	// stability window in which the SLO was shown to hold.
	end := m.Restored
	if !breached {
		end = m.Restored.Add(d.Scenario.SLO.stability())
	}
	res.ErrorBudget = BudgetConsumed(samples, m.Onset, end)
	res.ServedAfter = servedVersions(samples, m.Restored)
	d.mu.Lock()
	d.result = &res
	d.mu.Unlock()
}

func (d *Drill) marks() Marks {
	var m Marks
	m.T0 = d.t0
	m.Onset, _ = d.event(EventOnset)
	m.Detected, _ = d.event(EventDetected)
	m.Decided, _ = d.event(EventDecided)
	m.Actuated, _ = d.event(EventActuated)
	m.Restored, _ = d.event(EventRestored)
	return m
}

func (d *Drill) resultCopy() Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.result == nil {
		return Result{}
	}
	return *d.result
}

// Result returns what the drill measured so far (nil before the rollback).
func (d *Drill) Result() *Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.result == nil {
		return nil
	}
	r := *d.result
	return &r
}

// servedVersions names the version that answered successful requests from
// `from` on, or a breakdown such as "v1 97.0%, v2 3.0%".
func servedVersions(samples []Sample, from time.Time) string {
	counts := map[string]int{}
	var order []string
	total := 0
	for _, s := range samples {
		if s.At.Before(from) || s.Failed() {
			continue
		}
		if counts[s.Version] == 0 {
			order = append(order, s.Version)
		}
		counts[s.Version]++
		total++
	}
	if len(order) == 1 {
		return order[0]
	}
	out := ""
	for i, v := range order {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %.1f%%", v, 100*float64(counts[v])/float64(total))
	}
	return out
}
