package drills

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Sample is one observed request, as the observer recorded it.
type Sample struct {
	At      time.Time
	Latency time.Duration
	Status  int    // HTTP status; 0 when no HTTP answer arrived
	Err     string // connection error or timeout; empty when answered
	Version string // X-App-Version of the answer, to tell stable from canary
}

// Failed reports whether a user would have seen the request fail: no answer
// at all (connection error, timeout) or a server error. A 4xx is an answer
// the app chose to give, so it counts as served.
func (s Sample) Failed() bool {
	return s.Err != "" || s.Status == 0 || s.Status >= 500
}

// DefaultStability is how long the SLO must hold when SLO.Stability is zero:
// long enough that a service which recovers and falls over again within a
// few seconds is not called restored.
const DefaultStability = 10 * time.Second

// SLO is what "service is healthy" means for a drill, judged over a sliding
// window of observed requests.
type SLO struct {
	// MaxErrorRatio is the highest tolerated failed/total ratio in a window,
	// e.g. 0.05. A window exactly at the ratio is healthy.
	MaxErrorRatio float64
	// MaxP99 bounds the window's 99th-percentile latency; 0 means no bound.
	MaxP99 time.Duration
	// Window is the sliding window length, e.g. 2s.
	Window time.Duration
	// Stability is how long the SLO must hold continuously before service
	// counts as restored; 0 means DefaultStability.
	Stability time.Duration
}

// Validate checks s before a drill starts, so a typo in a scenario fails
// fast instead of producing a meaningless verdict. Analyze assumes a valid
// SLO.
func (s SLO) Validate() error {
	switch {
	case math.IsNaN(s.MaxErrorRatio) || s.MaxErrorRatio < 0 || s.MaxErrorRatio > 1:
		return fmt.Errorf("slo: MaxErrorRatio %v is outside [0, 1]", s.MaxErrorRatio)
	case s.MaxP99 < 0:
		return fmt.Errorf("slo: MaxP99 %v is negative; use 0 for no latency bound", s.MaxP99)
	case s.Window <= 0:
		return fmt.Errorf("slo: Window %v must be positive", s.Window)
	case s.Stability < 0:
		return fmt.Errorf("slo: Stability %v is negative; use 0 for the default %v", s.Stability, DefaultStability)
	}
	return nil
}

// stability returns Stability with its default applied.
func (s SLO) stability() time.Duration {
	if s.Stability == 0 {
		return DefaultStability
	}
	return s.Stability
}

// Breach reports whether the window of samples ending at t, those with At
// in (t-Window, t], violates the SLO. samples need not be sorted.
//
// An empty window is a breach: if no request was answered, or none was even
// recorded, nothing shows the service is up, and a drill must not pass on
// silence.
func (s SLO) Breach(samples []Sample, t time.Time) bool {
	var w window
	from := t.Add(-s.Window)
	for _, smp := range samples {
		if smp.At.After(from) && !smp.At.After(t) {
			w.add(smp, s.MaxP99)
		}
	}
	return s.violated(w)
}

// window counts what the SLO needs to know about the samples in one window:
// how many, how many failed, and how many were slower than MaxP99.
type window struct{ n, failed, slow int }

func (w *window) add(s Sample, maxP99 time.Duration)    { w.update(s, maxP99, 1) }
func (w *window) remove(s Sample, maxP99 time.Duration) { w.update(s, maxP99, -1) }

func (w *window) update(s Sample, maxP99 time.Duration, delta int) {
	w.n += delta
	if s.Failed() {
		w.failed += delta
	}
	if s.Latency > maxP99 {
		w.slow += delta
	}
}

// violated applies the SLO to one window. The latency bound uses the same
// nearest-rank p99 as Percentiles: p99 exceeds MaxP99 exactly when fewer
// than rank(n, 99) samples are within it. Latency counts every sample,
// failed ones included, because a timeout is the slowest answer a user gets.
func (s SLO) violated(w window) bool {
	if w.n == 0 {
		return true
	}
	if float64(w.failed)/float64(w.n) > s.MaxErrorRatio {
		return true
	}
	return s.MaxP99 > 0 && w.n-w.slow < rank(w.n, 99)
}

// rank is the nearest-rank position (1-based) of the pct-th percentile in n
// sorted values, ceil(n*pct/100), in integers to avoid float rounding.
func rank(n, pct int) int {
	return (n*pct + 99) / 100
}

// Analysis is the SLO verdict over a request stream relative to fault onset.
type Analysis struct {
	// Detected is the first breach at or after onset; zero if never.
	Detected time.Time
	// Restored is the start of the first healthy stretch after detection
	// that lasts Stability: the time of the first sample whose window is
	// healthy and after which no breach occurs for Stability, with the
	// stream reaching that far. Zero if never restored. When the SLO was
	// never breached after onset, Restored is onset (MTTR 0).
	Restored time.Time
	// Breached reports whether the SLO was breached at or after onset.
	Breached bool
	// Failed and Total count samples in [onset, Restored] when service was
	// breached and restored, and in [onset, end of stream] otherwise: when
	// never restored they are the damage so far, and when never breached
	// they are the traffic that shows the SLO held.
	Failed, Total int
}

// NoTraffic reports whether no request was observed at or after onset. Such
// an analysis proves nothing either way, and callers treat it as an error
// rather than a pass.
func (a Analysis) NoTraffic() bool { return a.Total == 0 }

// point is one evaluation of the sliding window.
type point struct {
	at     time.Time
	breach bool
}

// Analyze evaluates slo over samples from onset on, at each sample time
// (samples are sorted by At; an unsorted slice is sorted in a copy).
//
// Silence counts as a breach, as in Breach: when two consecutive samples
// are more than Window apart, the window empties Window after the first of
// them, and that instant is evaluated as a breach. Time before the first
// sample is not judged.
//
// Flapping is not recovery: a healthy stretch shorter than Stability that
// ends in another breach does not restore service; Restored is the start of
// the first stretch that holds for the full Stability. A later breach after
// such a stretch is a new incident and does not move Restored.
//
// interval is the observer's sampling interval. A fixed-rate observer cannot
// land a sample exactly at Restored+Stability, so the stream counts as
// reaching it when its last sample is within half an interval of it; the
// resulting error is within the ±interval bound reported with MTTR.
//
// If the SLO never breaches at or after onset, the fault was recovered from
// before it was detected: Detected is zero, Breached false and Restored
// onset. With no samples at or after onset everything is zero and
// NoTraffic reports true.
func Analyze(samples []Sample, slo SLO, onset time.Time, interval time.Duration) Analysis {
	ss := sortedByTime(samples)
	budget := BudgetConsumed(ss, onset, time.Time{})
	a := Analysis{Failed: budget.Failed, Total: budget.Total}
	if a.NoTraffic() {
		return a
	}
	points := slo.evaluate(ss, onset)
	first := slices.IndexFunc(points, func(p point) bool { return p.breach })
	if first < 0 {
		a.Restored = onset
		return a
	}
	a.Detected, a.Breached = points[first].at, true
	a.Restored = restoredAt(points[first:], ss[len(ss)-1].At, slo.stability(), max(interval, 0)/2)
	if !a.Restored.IsZero() {
		budget = BudgetConsumed(ss, onset, a.Restored)
		a.Failed, a.Total = budget.Failed, budget.Total
	}
	return a
}

// sortedByTime returns samples sorted by At, copying only when they are not
// sorted already so that the caller's slice is never reordered.
func sortedByTime(samples []Sample) []Sample {
	byAt := func(a, b Sample) int { return a.At.Compare(b.At) }
	if slices.IsSortedFunc(samples, byAt) {
		return samples
	}
	ss := slices.Clone(samples)
	slices.SortStableFunc(ss, byAt)
	return ss
}

// evaluate slides the window over sorted samples and returns, in time order,
// the evaluation at each distinct sample time from onset on, plus a breach
// point wherever a silence longer than Window empties the window.
func (s SLO) evaluate(ss []Sample, onset time.Time) []point {
	var points []point
	var w window
	lo := 0
	for hi := 0; hi < len(ss); {
		t := ss[hi].At
		for ; hi < len(ss) && !ss[hi].At.After(t); hi++ {
			w.add(ss[hi], s.MaxP99)
		}
		for ; lo < hi && !ss[lo].At.After(t.Add(-s.Window)); lo++ {
			w.remove(ss[lo], s.MaxP99)
		}
		if !t.Before(onset) {
			points = append(points, point{at: t, breach: s.violated(w)})
		}
		if hi == len(ss) {
			break
		}
		empty := t.Add(s.Window)
		if empty.Before(onset) {
			empty = onset
		}
		if ss[hi].At.After(empty) {
			points = append(points, point{at: empty, breach: true})
		}
	}
	return points
}

// restoredAt finds the start of the first healthy stretch in points (which
// begin at the first breach) that lasts stability with no breach, and that
// the stream, ending at last, covers to within slack. It returns zero when
// there is none yet.
func restoredAt(points []point, last time.Time, stability, slack time.Duration) time.Time {
	for i := 0; i < len(points); i++ {
		if points[i].breach {
			continue
		}
		start := points[i].at
		end := start.Add(stability)
		next := i + 1
		for next < len(points) && !points[next].breach {
			next++
		}
		if next < len(points) && !points[next].at.After(end) {
			i = next // flapped: this stretch broke before Stability
			continue
		}
		if last.Before(end.Add(-slack)) {
			return time.Time{} // healthy so far, but not watched for long enough
		}
		return start
	}
	return time.Time{}
}
