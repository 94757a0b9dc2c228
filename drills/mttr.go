package drills

import (
	"errors"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
)

// Marks are the timeline times of one drill that MTTR is computed from.
// T0 is the drill start, carried for timeline offsets; MTTR does not use it.
// A zero time means the event never happened or was not reported.
//
// OnsetBound and RestoredBound say how far the true onset and the true end
// of the outage may lie from the recorded marks; ComputeMTTR combines them
// into MTTR's bound.
type Marks struct {
	T0, Onset, Detected, Decided, Actuated, Restored time.Time
	OnsetBound, RestoredBound                        Bound
}

// Bound says how far the true instant of a mark may lie from the recorded
// one: the truth is in [At-Before, At+After]. How names where the bound
// comes from (sample interval, window lag, 1 s controller timestamps…).
type Bound struct {
	Before, After time.Duration
	How           string
}

// Record is the bound in report form.
func (b Bound) Record() *reports.Bound {
	return &reports.Bound{Before: reports.Duration(b.Before), After: reports.Duration(b.After), How: b.How}
}

// ComputeMTTR returns MTTR = Restored - Onset with its phase split: detect =
// Detected-Onset, decide = Decided-Detected, actuate = Actuated-Decided,
// recover = Restored-Actuated. Longest names the longest phase (the earliest
// on a tie, "" when all are zero).
//
// The bound comes from the two ends' bounds: the true MTTR is at least
// Total - (OnsetBound.After + RestoredBound.Before) (a later onset, an
// earlier end, never below zero) and at most Total + (OnsetBound.Before +
// RestoredBound.After).
//
// Marks out of order are clamped, never producing negative phases: each of
// Detected, Decided and Actuated is moved back to the earliest later mark
// and forward to Onset. So when the machinery decided before the harness
// detected, detect runs to the decision and decide is 0; when restored came
// before the machinery finished actuating, actuate ends at restored and
// recover is 0. With every mark present the phases add up to Total.
//
// A missing (zero) mark makes both of its adjacent phases zero: how the time
// across it splits is unknown, so it is left unattributed (Total minus the
// phase sum) rather than guessed.
//
// It returns an error when Onset or Restored is zero, or Restored precedes
// Onset, since there is then no MTTR to report.
func ComputeMTTR(m Marks, budget time.Duration) (reports.MTTR, error) {
	if err := m.check(); err != nil {
		return reports.MTTR{}, err
	}
	bounds := m.clamped()
	var phases [4]time.Duration
	for i := range phases {
		if !bounds[i].IsZero() && !bounds[i+1].IsZero() {
			phases[i] = bounds[i+1].Sub(bounds[i])
		}
	}
	total := m.Restored.Sub(m.Onset)
	return reports.MTTR{
		Total: reports.Duration(total),
		Phases: reports.Phases{
			Detect:  reports.Duration(phases[0]),
			Decide:  reports.Duration(phases[1]),
			Actuate: reports.Duration(phases[2]),
			Recover: reports.Duration(phases[3]),
		},
		Minus:   reports.Duration(min(total, m.OnsetBound.After+m.RestoredBound.Before)),
		Plus:    reports.Duration(m.OnsetBound.Before + m.RestoredBound.After),
		Budget:  reports.Duration(budget),
		Longest: longest(phases),
	}, nil
}

// check refuses marks that have no MTTR, naming what is missing.
func (m Marks) check() error {
	switch {
	case m.Onset.IsZero() && m.Restored.IsZero():
		return errors.New("mttr: onset and restored marks are missing: fault onset never confirmed and service never restored")
	case m.Onset.IsZero():
		return errors.New("mttr: onset mark is missing: fault onset was never confirmed")
	case m.Restored.IsZero():
		return errors.New("mttr: restored mark is missing: service was never restored")
	case m.Restored.Before(m.Onset):
		return errors.New("mttr: restored mark precedes onset")
	}
	return nil
}

// clamped returns onset, detected, decided, actuated and restored with each
// present middle mark clamped into [Onset, earliest later present mark], so
// that consecutive present marks never go backwards. Missing marks stay zero.
func (m Marks) clamped() [5]time.Time {
	b := [5]time.Time{m.Onset, m.Detected, m.Decided, m.Actuated, m.Restored}
	next := m.Restored
	for i := 3; i >= 1; i-- {
		if b[i].IsZero() {
			continue
		}
		if b[i].After(next) {
			b[i] = next
		}
		if b[i].Before(m.Onset) {
			b[i] = m.Onset
		}
		next = b[i]
	}
	return b
}

// longest names the longest phase, the earliest on a tie, or "" when every
// phase is zero.
func longest(phases [4]time.Duration) string {
	name, best := "", time.Duration(0)
	for i, d := range phases {
		if d > best {
			name, best = reports.PhaseNames[i], d
		}
	}
	return name
}

// BudgetConsumed counts failed requests among the samples with At in
// [from, to], the error budget a drill spent. A zero to means no upper
// bound, so a never-restored drill can pass Analysis.Restored as is and be
// charged up to the end of the stream. Fraction is 0 when there were no
// samples.
func BudgetConsumed(samples []Sample, from, to time.Time) reports.ErrorBudget {
	var b reports.ErrorBudget
	for _, s := range samples {
		if !inSpan(s, from, to) {
			continue
		}
		b.Total++
		if s.Failed() {
			b.Failed++
		}
	}
	if b.Total > 0 {
		b.Fraction = float64(b.Failed) / float64(b.Total)
	}
	return b
}

// Percentiles returns the nearest-rank 50th, 90th and 99th percentile
// latencies of the samples with At in [from, to] (a zero to means no upper
// bound), or zeros when there are none. Failed samples count: a timeout is
// latency the user felt. The SLO's MaxP99 uses the same definition.
func Percentiles(samples []Sample, from, to time.Time) (p50, p90, p99 time.Duration) {
	var lat []time.Duration
	for _, s := range samples {
		if inSpan(s, from, to) {
			lat = append(lat, s.Latency)
		}
	}
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	at := func(pct int) time.Duration { return lat[rank(len(lat), pct)-1] }
	return at(50), at(90), at(99)
}

// inSpan reports whether s is in [from, to], with a zero to open-ended.
func inSpan(s Sample, from, to time.Time) bool {
	return !s.At.Before(from) && (to.IsZero() || !s.At.After(to))
}
