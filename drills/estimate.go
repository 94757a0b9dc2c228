package drills

import (
	"fmt"
	"time"
)

// How each mark's bound is made; the report carries these words.
const (
	howInjected = "fault injected: after the create call, before the API confirmed it"
	howSampled  = "a sampled user request: the one before it started one interval earlier"
	howCrash    = "the container's finishedAt, a 1 s controller timestamp, before the watch saw it"
	howExact    = "the start of a recorded user request"
	howRestored = "first sample whose window holds the SLO; the outage may have ended as early as the last bad request (window lag) or one interval before it"
	howOutage   = "the outage start the sample app reported"
	// howMachineryWatch: a machinery's own check, seen by the harness's
	// watch; the check finished up to Before earlier (1 s timestamps).
	howMachineryWatch = "the machinery's own check, as the harness's watch saw it; its 1 s timestamp bounds how much earlier it finished"
)

// bad reports whether a user would have counted the request against the
// SLO: it failed, or it was slower than the latency bound.
func (s SLO) bad(smp Sample) bool {
	return smp.Failed() || (s.MaxP99 > 0 && smp.Latency > s.MaxP99)
}

// firstBad returns the start of the first bad request at or after from, or
// zero when users saw none.
func firstBad(samples []Sample, slo SLO, from time.Time) time.Time {
	for _, s := range samples {
		if !s.At.Before(from) && slo.bad(s) {
			return s.At
		}
	}
	return time.Time{}
}

// lastBad returns the start of the last bad request in [from, to), or zero
// when there was none.
func lastBad(samples []Sample, slo SLO, from, to time.Time) time.Time {
	var last time.Time
	for _, s := range samples {
		if !s.At.Before(to) {
			break
		}
		if !s.At.Before(from) && slo.bad(s) {
			last = s.At
		}
	}
	return last
}

// restoredBound is how early the outage may really have ended before the
// restored mark. The SLO judges a window, so restored lags the last bad
// request by up to a window (with 25 % failures and a 5 %/2 s SLO, about
// 1.6 s); the truth lies after the last bad request started, or one
// interval before restored when no bad request came first. Restored is
// the first healthy sample, so the truth is never after it.
func restoredBound(restored, last time.Time, interval time.Duration) Bound {
	before := interval
	if !last.IsZero() && last.Before(restored) {
		before = restored.Sub(last)
	}
	return Bound{Before: before, How: howRestored}
}

// sampledBound is the bound of a mark read off the observer's samples: it
// is known to within one request interval, on the early side.
func sampledBound(interval time.Duration) Bound {
	return Bound{Before: interval, How: howSampled}
}

// injectedBound brackets an injected fault's onset: it cannot have begun
// before the create call and had begun when the API confirmed it.
func injectedBound(injected, confirmed time.Time) Bound {
	return Bound{After: max(confirmed.Sub(injected), 0), How: howInjected}
}

// estimate is the whole estimator on one stream: what every drill and the
// calibration drill measure from samples, so both run the same code.
type estimate struct {
	analysis      Analysis
	restored      time.Time
	firstBad      time.Time
	lastBad       time.Time
	restoredBound Bound
}

// estimateOutage judges samples (the drained stream) for an outage that
// began at injected: breaches count from injection, restored is the first
// instant at or after from (the actuation, or onset when nothing acts) from
// which the SLO holds for its stability window.
func estimateOutage(samples []Sample, slo SLO, injected, from time.Time, interval time.Duration) (estimate, error) {
	e := estimate{analysis: Analyze(samples, slo, injected, interval)}
	if e.analysis.NoTraffic() {
		return e, fmt.Errorf("no user request was observed after %s", injected.Format("15:04:05.000"))
	}
	e.restored = restoredAfter(samples, slo, from, interval)
	if e.restored.IsZero() {
		return e, fmt.Errorf("the SLO never held for %s after %s", slo.stability(), from.Format("15:04:05.000"))
	}
	e.firstBad = firstBad(samples, slo, injected)
	e.lastBad = lastBad(samples, slo, injected, e.restored)
	e.restoredBound = restoredBound(e.restored, e.lastBad, interval)
	return e, nil
}
