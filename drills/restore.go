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
	// breakdown when more than one did; ServedBy lists those versions.
	ServedAfter string
	ServedBy    []string
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
	// Promoted says how the machinery promoted the new version instead of
	// rolling it back; "" when it did not.
	Promoted string
	// DeclaredHealthy says how the machinery still called the new version
	// healthy when the budget ran out with no decision; "" otherwise.
	DeclaredHealthy string
	// BadShare is how many user requests the new version answered from
	// injection to restored; Pods how many app pods ran meanwhile.
	BadShare *reports.Share
	Pods     *reports.PodCount
	// Unseen, under a machinery that gives users no share of the canary,
	// says how many user answers came from the canary anyway; Seen says
	// why that breaks the drill ("" when users never saw it).
	Unseen, Seen string
	// Dark says what the canary served while the fault lasted, for a
	// CanaryDark drill; Lit says why that breaks it ("" when it went dark).
	Dark, Lit string
	// Verdict and Why are the drill's verdict on this result (Judge), set
	// once the result is complete.
	Verdict, Why string
}

// ConfirmRestored keeps observing until service is restored: the SLO holds
// continuously for the stability window. Service counts as restored only
// once the rollback has actuated: a bad canary that is still deployed is not
// a restored service, even while the SLO happens to hold.
//
// While traffic runs, restored is judged only on settled samples (requests
// that have all finished); once the observer has drained, it is judged again
// on the whole stream, and that is the instant recorded.
func (d *Drill) ConfirmRestored(ctx context.Context) error {
	if at, kept := d.keptAt(); kept && !d.Scenario.Expect.Steady() {
		return d.watchKept(ctx, at)
	}
	onset, okOnset := d.event(EventOnset)
	from, okFrom := d.event(EventActuated)
	if d.Scenario.Expect.Steady() {
		// No rollback: service must come back on its own, measured from onset.
		from, okFrom = onset, okOnset
	}
	if !okOnset || !okFrom {
		return errors.New("confirm restored: onset and actuation must be recorded first")
	}
	slo, interval := d.Scenario.SLO, d.observer.Interval()
	err := d.phase(ctx, "confirm restored", d.opts.Timeouts.Restore, func(ctx context.Context) error {
		return wait.PollUntilContextCancel(ctx, 2*pollEvery, true, func(context.Context) (bool, error) {
			return !restoredAfter(d.observer.Settled(time.Now()), slo, from, interval).IsZero(), nil
		})
	})
	if err == nil && d.Scenario.Expect == ExpectPromoted {
		// Users keep coming until the machinery has finished: an analysis
		// that watched a canary without traffic would judge nothing.
		err = d.awaitPromotion(ctx)
	}
	d.noteNeighbours(ctx)
	samples := d.observer.Stop()
	if err != nil {
		return fmt.Errorf("%w: the SLO never held for %s after the rollback", err, slo.stability())
	}
	e, err := estimateOutage(samples, slo, d.injected(), from, interval)
	if err != nil {
		return fmt.Errorf("confirm restored on the drained stream: %w", err)
	}
	d.recordEstimate(e, interval)
	d.finishResult(samples, e)
	return d.readMachinery(ctx)
}

// injected is when the fault was injected: breaches and the error budget
// count from it. A fault the canary carries is injected with the canary.
func (d *Drill) injected() time.Time {
	if at, ok := d.event(EventInjected); ok {
		return at
	}
	at, _ := d.event(EventCanaryStarted)
	return at
}

// recordEstimate puts the estimator's marks on the timeline.
func (d *Drill) recordEstimate(e estimate, interval time.Duration) {
	if !e.firstBad.IsZero() {
		d.mark(EventFirstFailure, e.firstBad, sampledBound(interval), "first bad user request after injection")
	}
	if e.analysis.Breached {
		// A machinery that detects by itself owns the detected mark; the
		// harness's first breach stays beside it for comparison.
		name := EventDetected
		if _, own := d.event(EventDetected); own {
			name = EventSLOBreach
		}
		d.mark(name, e.analysis.Detected, sampledBound(interval), "first SLO breach")
	}
	if !e.lastBad.IsZero() {
		d.mark(EventLastFailure, e.lastBad, Bound{How: howExact}, "last bad user request before restored")
	}
	if !e.restored.IsZero() {
		d.mark(EventRestored, e.restored, e.restoredBound, fmt.Sprintf("SLO held for %s", d.Scenario.SLO.stability()))
	}
}

// readMachinery asks the machinery what it serves now and, for a steady
// drill, whether it rolled back anyway (or, when it must, promoted).
func (d *Drill) readMachinery(ctx context.Context) error {
	if len(d.Scenario.Calibrate) > 0 {
		return nil
	}
	var outcome *outcomeOrErr
	if d.Scenario.Expect.Steady() {
		outcome = d.steadyOutcome()
	}
	serving, err := d.machinery.Serving(ctx)
	if err != nil {
		return fmt.Errorf("ask %s what it serves: %w", d.machinery.Name(), err)
	}
	var rolledBack, promoted string
	if d.Scenario.Expect.Steady() {
		rolledBack, promoted = d.steadyRollback(outcome, serving)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.result.Serving, d.result.RolledBack = serving, rolledBack
	if promoted != "" {
		d.result.Promoted = promoted
	}
	d.result.Verdict, d.result.Why = Judge(*d.result, d.Scenario, d.machinery.Name())
	return nil
}

// awaitPromotion waits, with traffic still running, until the machinery
// reports (a promotion, or anything else) and leaves the report for
// steadyOutcome. It returns once the rollback timeout has passed without
// a report: the verdict then says the rollout never completed.
func (d *Drill) awaitPromotion(ctx context.Context) error {
	select {
	case r := <-d.outcome:
		d.outcome <- r
	case <-time.After(d.opts.Timeouts.Rollback):
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// steadyOutcome takes what the machinery reported in a steady drill, if
// anything.
func (d *Drill) steadyOutcome() *outcomeOrErr {
	select {
	case r := <-d.outcome:
		return &r
	default:
		return nil
	}
}

// steadyRollback says how the machinery rolled back in a steady drill (it
// reported a rollback, or it no longer serves the canary) and how it
// promoted the canary, if it did.
func (d *Drill) steadyRollback(r *outcomeOrErr, serving rollback.Serving) (rolledBack, promoted string) {
	switch {
	case r == nil:
	case r.err != nil:
		// Kept as evidence: a machinery that failed while trying to act
		// is not one that kept the canary on purpose.
		d.record(EventMachineryError, time.Now(), r.err.Error())
		d.outcome <- *r
	case r.out.Promoted:
		d.record(EventPromoted, r.out.Decided, r.out.Reason)
		promoted = r.out.Reason
	default:
		d.record(EventDecided, r.out.Decided, "unexpected rollback: "+r.out.DetectedBy+": "+r.out.Reason)
		return fmt.Sprintf("the machinery rolled back at t0%+.3fs (%s: %s)", r.out.Decided.Sub(d.t0).Seconds(), r.out.DetectedBy, r.out.Reason), ""
	}
	if !serving.Has(d.Scenario.Canary.Name) {
		return fmt.Sprintf("the machinery rolled back: it no longer serves canary %s (%s)", d.Scenario.Canary.Name, serving.Detail), promoted
	}
	return "", promoted
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

func (d *Drill) finishResult(samples []Sample, e estimate) {
	m := d.marks()
	res := d.resultCopy()
	res.Marks, res.Breached = m, e.analysis.Breached
	if d.Scenario.Expect.Steady() && !m.Detected.IsZero() {
		// No machinery acts in a steady drill: from detection on, the time
		// is all self-recovery, not decide or actuate.
		m.Decided, m.Actuated = m.Detected, m.Detected
	}
	if m.Detected.IsZero() && !m.Decided.IsZero() {
		// Users never saw it: there is no detection instant, and the time
		// to the machinery's decision is all decide. The report says
		// "not seen by users" instead of a detect time.
		m.Detected = m.Onset
	}
	mttr, err := ComputeMTTR(m, d.Scenario.Budget)
	if err != nil {
		res.MTTRErr = err.Error()
	} else {
		mttr.OnsetFrom = d.onsetFrom()
		mttr.NotSeenByUsers = !e.analysis.Breached
		res.MTTR = &mttr
	}
	// Breaches and the budget count from injection. With no breach,
	// restored is onset itself; the budget then covers the stability window
	// in which the SLO was shown to hold.
	end := m.Restored
	if !e.analysis.Breached {
		end = m.Restored.Add(d.Scenario.SLO.stability())
	}
	res.ErrorBudget = BudgetConsumed(samples, d.injected(), end)
	res.ServedAfter, res.ServedBy = servedVersions(samples, m.Restored)
	res.BadShare = badShare(samples, d.Scenario.Canary.Name, d.injected(), end)
	res.Pods = d.podsDuring(m)
	if d.Scenario.CanaryDark {
		res.Dark, res.Lit = d.darkDuringFault(samples)
	}
	if !d.usersReachCanary {
		res.Unseen, res.Seen = d.canaryUnseen(samples)
	}
	d.mu.Lock()
	d.result = &res
	d.mu.Unlock()
}

// onsetFrom says which instant MTTR starts at, for the report.
func (d *Drill) onsetFrom() string {
	if _, ok := d.event(EventInjected); ok {
		return "fault injection, confirmed through the API"
	}
	switch d.Scenario.Fault.Onset {
	case OnsetCanaryCrashes:
		return "the canary's first crash"
	case OnsetCanarySlow:
		return "the first slow answer of the canary"
	case OnsetCanaryTestErrors:
		return "the first failed answer of the canary to the harness's test request"
	}
	return "the first failed request the canary answered"
}

func (d *Drill) marks() Marks {
	var m Marks
	m.T0 = d.t0
	m.Onset, _ = d.event(EventOnset)
	m.Detected, _ = d.event(EventDetected)
	m.Decided, _ = d.event(EventDecided)
	m.Actuated, _ = d.event(EventActuated)
	m.Restored, _ = d.event(EventRestored)
	m.OnsetBound, m.RestoredBound = d.bound(EventOnset), d.bound(EventRestored)
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
// `from` on, or a breakdown such as "v1 97.0%, v2 3.0%", and lists them.
func servedVersions(samples []Sample, from time.Time) (string, []string) {
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
		return order[0], order
	}
	out := ""
	for i, v := range order {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %.1f%%", v, 100*float64(counts[v])/float64(total))
	}
	return out, order
}

// keptAt is when the machinery kept the new version instead of rolling it
// back: it promoted it, or declared it healthy past the budget.
func (d *Drill) keptAt() (time.Time, bool) {
	if at, ok := d.event(EventPromoted); ok {
		return at, true
	}
	return d.event(EventDeclaredHealthy)
}

// watchKept is ConfirmRestored for a drill whose machinery kept the bad
// version: there is no rollback to restore service, so the drill keeps
// observing users for one stability window after it did, as evidence of
// what they saw, and then judges.
func (d *Drill) watchKept(ctx context.Context, promoted time.Time) error {
	slo, interval := d.Scenario.SLO, d.observer.Interval()
	until := promoted.Add(slo.stability())
	err := d.phase(ctx, "observe the kept version", d.opts.Timeouts.Restore, func(ctx context.Context) error {
		return wait.PollUntilContextCancel(ctx, 2*pollEvery, true, func(context.Context) (bool, error) {
			settled := d.observer.Settled(time.Now())
			return len(settled) > 0 && settled[len(settled)-1].At.After(until), nil
		})
	})
	d.noteNeighbours(ctx)
	samples := d.observer.Stop()
	if err != nil {
		return err
	}
	injected := d.injected()
	a := Analyze(samples, slo, injected, interval)
	if a.NoTraffic() {
		return fmt.Errorf("observe the kept version: no user request was observed after %s", injected.Format("15:04:05.000"))
	}
	if a.Breached {
		d.recordEstimate(estimate{analysis: a, firstBad: firstBad(samples, slo, injected)}, interval)
	}
	res := d.resultCopy()
	res.Marks, res.Breached = d.marks(), a.Breached
	res.MTTRErr = "the machinery kept the new version; nothing restored service"
	res.ErrorBudget = BudgetConsumed(samples, injected, samples[len(samples)-1].At.Add(time.Nanosecond))
	res.ServedAfter, res.ServedBy = servedVersions(samples, promoted)
	d.mu.Lock()
	d.result = &res
	d.mu.Unlock()
	return d.readMachinery(ctx)
}
