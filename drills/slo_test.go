package drills

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is the synthetic drill start; every stream is timed from it.
var base = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// every is the synthetic observer interval (20 Hz).
const every = 50 * time.Millisecond

func at(off time.Duration) time.Time { return base.Add(off) }

// stream generates samples every 50ms over [0, length) with 10ms latency.
// Samples for which fail(offset) is true fail, alternately as a 503 and as
// a connection error, so both failure kinds flow through the analysis.
func stream(length time.Duration, fail func(off time.Duration) bool) []Sample {
	var ss []Sample
	for i := 0; time.Duration(i)*every < length; i++ {
		off := time.Duration(i) * every
		s := Sample{At: at(off), Latency: 10 * time.Millisecond, Status: 200, Version: "v1"}
		if fail(off) {
			if i%2 == 0 {
				s.Status, s.Version = 503, "v2"
			} else {
				s = Sample{At: s.At, Latency: 3 * time.Millisecond, Err: "connection refused"}
			}
		}
		ss = append(ss, s)
	}
	return ss
}

// during is a failure predicate true on the union of [from, to) spans,
// given as pairs of offsets.
func during(spans ...time.Duration) func(time.Duration) bool {
	return func(off time.Duration) bool {
		for i := 0; i+1 < len(spans); i += 2 {
			if off >= spans[i] && off < spans[i+1] {
				return true
			}
		}
		return false
	}
}

func never(time.Duration) bool { return false }

func sec(s float64) time.Duration { return time.Duration(math.Round(s*1000)) * time.Millisecond }

// drillSLO is a 1s window at 5% so that a window holds 20 samples and the
// second failure in a window is the first breach.
var drillSLO = SLO{MaxErrorRatio: 0.05, Window: time.Second, Stability: 10 * time.Second}

func TestSampleFailed(t *testing.T) {
	tests := []struct {
		s    Sample
		want bool
	}{
		{Sample{Status: 200}, false},
		{Sample{Status: 404}, false},
		{Sample{Status: 499}, false},
		{Sample{Status: 500}, true},
		{Sample{Status: 503}, true},
		{Sample{Status: 0}, true},
		{Sample{Status: 200, Err: "timeout"}, true},
		{Sample{Err: "connection refused"}, true},
	}
	for _, tt := range tests {
		if got := tt.s.Failed(); got != tt.want {
			t.Errorf("%+v.Failed() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestSLOValidate(t *testing.T) {
	valid := SLO{MaxErrorRatio: 0.05, MaxP99: 250 * time.Millisecond, Window: 2 * time.Second}
	if err := valid.Validate(); err != nil {
		t.Errorf("valid SLO: %v", err)
	}
	for _, ratio := range []float64{0, 1} {
		s := valid
		s.MaxErrorRatio = ratio
		if err := s.Validate(); err != nil {
			t.Errorf("MaxErrorRatio %v: %v", ratio, err)
		}
	}
	tests := []struct {
		edit  func(*SLO)
		field string
	}{
		{func(s *SLO) { s.MaxErrorRatio = -0.01 }, "MaxErrorRatio"},
		{func(s *SLO) { s.MaxErrorRatio = 1.5 }, "MaxErrorRatio"},
		{func(s *SLO) { s.MaxErrorRatio = math.NaN() }, "MaxErrorRatio"},
		{func(s *SLO) { s.MaxP99 = -time.Millisecond }, "MaxP99"},
		{func(s *SLO) { s.Window = 0 }, "Window"},
		{func(s *SLO) { s.Window = -time.Second }, "Window"},
		{func(s *SLO) { s.Stability = -time.Second }, "Stability"},
	}
	for _, tt := range tests {
		s := valid
		tt.edit(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.field) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%+v) = %v, want a one-line error naming %s", s, err, tt.field)
		}
	}
}

func TestSLOStabilityDefault(t *testing.T) {
	if got := (SLO{}).stability(); got != DefaultStability || DefaultStability != 10*time.Second {
		t.Errorf("default stability = %v (DefaultStability %v), want 10s", got, DefaultStability)
	}
	if got := (SLO{Stability: 3 * time.Second}).stability(); got != 3*time.Second {
		t.Errorf("stability = %v, want 3s", got)
	}
}

func TestBreachEmptyWindow(t *testing.T) {
	slo := SLO{MaxErrorRatio: 1, Window: time.Second}
	if !slo.Breach(nil, at(0)) {
		t.Error("no samples at all: want a breach")
	}
	ok := []Sample{{At: at(0), Status: 200}}
	if !slo.Breach(ok, at(2*time.Second)) {
		t.Error("only a sample older than the window: want a breach")
	}
	if slo.Breach(ok, at(0)) {
		t.Error("a healthy sample at t: want no breach")
	}
}

func TestBreachWindowBounds(t *testing.T) {
	slo := SLO{MaxErrorRatio: 0, Window: time.Second}
	t1 := at(10 * time.Second)
	ss := []Sample{
		{At: t1.Add(time.Millisecond), Status: 503}, // after t: outside
		{At: t1, Status: 200},
		{At: t1.Add(-time.Second), Status: 503}, // exactly t-Window: outside
	}
	if slo.Breach(ss, t1) {
		t.Error("window (t-1s, t] holds only the healthy sample: want no breach")
	}
	if !slo.Breach(ss, t1.Add(-time.Millisecond)) {
		t.Error("window ending 1ms earlier holds the failure at t-1s: want a breach")
	}
}

func TestBreachErrorRatio(t *testing.T) {
	ss := stream(time.Second, during(0, 2*every)) // 20 samples, 2 failed
	end := at(time.Second - every)
	if !drillSLO.Breach(ss, end) {
		t.Error("2/20 failed over a 5% SLO: want a breach")
	}
	ss = stream(time.Second, during(0, every)) // 1/20 = exactly 5%
	if drillSLO.Breach(ss, end) {
		t.Error("1/20 failed is exactly 5%: want no breach")
	}
}

func TestBreachP99(t *testing.T) {
	slo := SLO{MaxErrorRatio: 1, MaxP99: 100 * time.Millisecond, Window: time.Minute}
	withSlow := func(slow int) []Sample {
		ss := make([]Sample, 200)
		for i := range ss {
			ss[i] = Sample{At: at(time.Duration(i) * time.Millisecond), Status: 200, Latency: 100 * time.Millisecond}
			if i < slow {
				ss[i].Latency = 101 * time.Millisecond
			}
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
		return ss
	}
	end := at(time.Second)
	// Nearest-rank p99 of 200 is the 198th value: 2 slow samples stay above it.
	if slo.Breach(withSlow(2), end) {
		t.Error("2 slow of 200: p99 is within the bound, want no breach")
	}
	if !slo.Breach(withSlow(3), end) {
		t.Error("3 slow of 200: p99 exceeds the bound, want a breach")
	}
	if (SLO{MaxErrorRatio: 1, Window: time.Minute}).Breach(withSlow(200), end) {
		t.Error("MaxP99 0 means no latency bound: want no breach")
	}
}

// TestEvaluateMatchesBreach checks that the incremental sliding window in
// Analyze agrees with the direct definition in Breach on a ragged stream.
func TestEvaluateMatchesBreach(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var ss []Sample
	off := time.Duration(0)
	for range 2000 {
		off += time.Duration(rng.IntN(80)) * time.Millisecond // duplicates and jitter
		if rng.IntN(200) == 0 {
			off += 3 * time.Second // silences longer than the window
		}
		s := Sample{At: at(off), Status: 200, Latency: time.Duration(rng.IntN(300)) * time.Millisecond}
		if rng.IntN(10) == 0 {
			s.Status = 502
		}
		ss = append(ss, s)
	}
	slo := SLO{MaxErrorRatio: 0.1, MaxP99: 280 * time.Millisecond, Window: 2 * time.Second}
	onset := at(5 * time.Second)
	points := slo.evaluate(ss, onset)
	samplePoints := 0
	for i, p := range points {
		if p.at.Before(onset) || (i > 0 && !p.at.After(points[i-1].at)) {
			t.Fatalf("point %d at %v: points must be after onset and strictly increasing", i, p.at.Sub(base))
		}
		if got := slo.Breach(ss, p.at); got != p.breach {
			t.Fatalf("at %v: evaluate says breach=%v, Breach says %v", p.at.Sub(base), p.breach, got)
		}
		if slices.ContainsFunc(ss, func(s Sample) bool { return s.At.Equal(p.at) }) {
			samplePoints++
		}
	}
	distinct := map[time.Time]bool{}
	for _, s := range ss {
		if !s.At.Before(onset) {
			distinct[s.At] = true
		}
	}
	if samplePoints != len(distinct) {
		t.Errorf("evaluated %d sample times, want all %d distinct times after onset", samplePoints, len(distinct))
	}
	if len(points) == samplePoints {
		t.Error("the stream has silences longer than the window, want breach points for them")
	}
}

func TestAnalyzeCleanOutage(t *testing.T) {
	// Failures span [5s, 8s). The window at 5.05s is the first with two
	// failures of 20; the window at 8.90s, (7.90s, 8.90s], is the first
	// with one failure left.
	ss := stream(30*time.Second, during(sec(5), sec(8)))
	got := Analyze(ss, drillSLO, at(sec(5)), every)
	want := Analysis{Detected: at(sec(5.05)), Restored: at(sec(8.9)), Breached: true, Failed: 60, Total: 79}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
	if d := got.Detected.Sub(at(sec(5))); d > drillSLO.Window {
		t.Errorf("detected %v after failures started, want within one window", d)
	}
	if got.NoTraffic() {
		t.Error("NoTraffic = true, want false")
	}
}

func TestAnalyzeZeroTolerance(t *testing.T) {
	// With no failure tolerated, detection is the first failure and
	// restored is the first sample whose window holds none: 7.95s + 1s.
	slo := drillSLO
	slo.MaxErrorRatio = 0
	ss := stream(30*time.Second, during(sec(5), sec(8)))
	got := Analyze(ss, slo, at(sec(5)), every)
	want := Analysis{Detected: at(sec(5)), Restored: at(sec(8.95)), Breached: true, Failed: 60, Total: 80}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
}

func TestAnalyzeNeverRestored(t *testing.T) {
	ss := stream(30*time.Second, during(sec(5), time.Hour))
	got := Analyze(ss, drillSLO, at(sec(5)), every)
	want := Analysis{Detected: at(sec(5.05)), Breached: true, Failed: 500, Total: 500}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
}

func TestAnalyzeStreamMustCoverStability(t *testing.T) {
	// Restored at 8.90s needs healthy samples up to 18.90s; with a 50ms
	// interval a sample within 25ms of that is close enough.
	fail := during(sec(5), sec(8))
	tests := []struct {
		name     string
		ss       []Sample
		restored bool
	}{
		{"ends at 18.85s", stream(sec(18.9), fail), false},
		{"ends at 18.90s", stream(sec(18.95), fail), true},
		{"jittered last sample at 18.87s", append(stream(sec(18.9), fail), Sample{At: at(sec(18.87)), Status: 200}), false},
		{"jittered last sample at 18.875s", append(stream(sec(18.9), fail), Sample{At: at(18875 * time.Millisecond), Status: 200}), true},
	}
	for _, tt := range tests {
		got := Analyze(tt.ss, drillSLO, at(sec(5)), every)
		if tt.restored && !got.Restored.Equal(at(sec(8.9))) {
			t.Errorf("%s: restored %s, want 8.9s", tt.name, offset(got.Restored))
		}
		if !tt.restored && !got.Restored.IsZero() {
			t.Errorf("%s: restored %s, want not yet restored", tt.name, offset(got.Restored))
		}
	}
	// Without an interval the stream must reach 18.90s exactly.
	if got := Analyze(stream(sec(18.95), fail), drillSLO, at(sec(5)), 0); !got.Restored.Equal(at(sec(8.9))) {
		t.Errorf("interval 0, ends at 18.90s: restored %s, want 8.9s", offset(got.Restored))
	}
	if got := Analyze(append(stream(sec(18.9), fail), Sample{At: at(sec(18.899)), Status: 200}), drillSLO, at(sec(5)), 0); !got.Restored.IsZero() {
		t.Errorf("interval 0, ends at 18.899s: restored %s, want not yet restored", offset(got.Restored))
	}
}

func TestAnalyzeFlapping(t *testing.T) {
	// Healthy from 8.90s, but breached again at 12.05s, well inside the
	// 10s stability window: only the stretch from 13.90s counts.
	ss := stream(30*time.Second, during(sec(5), sec(8), sec(12), sec(13)))
	got := Analyze(ss, drillSLO, at(sec(5)), every)
	want := Analysis{Detected: at(sec(5.05)), Restored: at(sec(13.9)), Breached: true, Failed: 80, Total: 179}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
}

func TestAnalyzeBreachAtStabilityEndIsFlapping(t *testing.T) {
	// The second breach lands at 18.90s, exactly Stability after 8.90s:
	// [t, t+Stability] is closed, so that stretch does not count.
	ss := stream(40*time.Second, during(sec(5), sec(8), sec(18.85), sec(19.85)))
	got := Analyze(ss, drillSLO, at(sec(5)), every)
	if !got.Restored.Equal(at(sec(20.75))) {
		t.Errorf("restored %s, want 20.75s (after the second breach)", offset(got.Restored))
	}
}

func TestAnalyzeLaterIncidentDoesNotMoveRestored(t *testing.T) {
	// The second breach at 18.95s comes after a full stability period.
	ss := stream(40*time.Second, during(sec(5), sec(8), sec(18.9), sec(19.9)))
	got := Analyze(ss, drillSLO, at(sec(5)), every)
	want := Analysis{Detected: at(sec(5.05)), Restored: at(sec(8.9)), Breached: true, Failed: 60, Total: 79}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
}

func TestAnalyzeRecoveredBeforeDetection(t *testing.T) {
	// One failure in any window is within 5%: the SLO never breaches.
	ss := stream(30*time.Second, during(sec(5), sec(5.05)))
	got := Analyze(ss, drillSLO, at(sec(5)), every)
	want := Analysis{Restored: at(sec(5)), Failed: 1, Total: 500}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
	if got.NoTraffic() {
		t.Error("NoTraffic = true, want false")
	}
}

func TestAnalyzeNoTraffic(t *testing.T) {
	for name, ss := range map[string][]Sample{
		"nil":               nil,
		"only before onset": stream(5*time.Second, never),
	} {
		got := Analyze(ss, drillSLO, at(sec(5)), every)
		if got != (Analysis{}) || !got.NoTraffic() {
			t.Errorf("%s: Analyze = %s, NoTraffic %v; want zero analysis and NoTraffic", name, show(got), got.NoTraffic())
		}
	}
}

func TestAnalyzeLatencyOnlyBreach(t *testing.T) {
	ss := stream(30*time.Second, never)
	for i := range ss {
		if off := ss[i].At.Sub(base); off >= sec(5) && off < sec(6) {
			ss[i].Latency = 500 * time.Millisecond
		}
	}
	slo := drillSLO
	slo.MaxP99 = 200 * time.Millisecond
	// p99 of 20 samples is the slowest, so one slow sample breaches; the
	// last one, at 5.95s, leaves the window at 6.95s.
	got := Analyze(ss, slo, at(sec(5)), every)
	want := Analysis{Detected: at(sec(5)), Restored: at(sec(6.95)), Breached: true, Failed: 0, Total: 40}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
	slo.MaxP99 = 0
	if got := Analyze(ss, slo, at(sec(5)), every); got.Breached || !got.Restored.Equal(at(sec(5))) {
		t.Errorf("without a latency bound: %s, want never breached", show(got))
	}
}

func TestAnalyzeSilenceIsBreach(t *testing.T) {
	// The observer records nothing in [5s, 8s): the window empties at
	// 4.95s + 1s, and the first sample after the silence is healthy.
	ss := slices.Concat(stream(5*time.Second, never), stream(30*time.Second, never)[160:])
	if !ss[100].At.Equal(at(sec(8))) {
		t.Fatalf("bad fixture: sample 100 at %s", offset(ss[100].At))
	}
	got := Analyze(ss, drillSLO, at(sec(4)), every)
	want := Analysis{Detected: at(sec(5.95)), Restored: at(sec(8)), Breached: true, Failed: 0, Total: 21}
	if got != want {
		t.Errorf("Analyze = %s\nwant      %s", show(got), show(want))
	}
	// A silence that began before onset is a breach at onset itself.
	ss = slices.Concat(stream(3*time.Second, never), stream(30*time.Second, never)[160:])
	got = Analyze(ss, drillSLO, at(sec(5)), every)
	want = Analysis{Detected: at(sec(5)), Restored: at(sec(8)), Breached: true, Failed: 0, Total: 1}
	if got != want {
		t.Errorf("silence across onset: Analyze = %s\nwant      %s", show(got), show(want))
	}
}

func TestAnalyzeUnsortedInput(t *testing.T) {
	ss := stream(30*time.Second, during(sec(5), sec(8)))
	shuffled := slices.Clone(ss)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	before := slices.Clone(shuffled)
	if got, want := Analyze(shuffled, drillSLO, at(sec(5)), every), Analyze(ss, drillSLO, at(sec(5)), every); got != want {
		t.Errorf("shuffled: %s\nsorted:   %s", show(got), show(want))
	}
	if !slices.Equal(shuffled, before) {
		t.Error("Analyze reordered the caller's samples")
	}
}

func offset(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.Sub(base).String()
}

func show(a Analysis) string {
	return fmt.Sprintf("{Detected %s, Restored %s, Breached %v, Failed %d, Total %d}",
		offset(a.Detected), offset(a.Restored), a.Breached, a.Failed, a.Total)
}

func TestRank(t *testing.T) {
	tests := []struct{ n, pct, want int }{
		{1, 50, 1}, {2, 50, 1}, {3, 50, 2}, {20, 99, 20}, {99, 99, 99},
		{100, 99, 99}, {101, 99, 100}, {200, 99, 198}, {10, 90, 9}, {11, 90, 10},
	}
	for _, tt := range tests {
		if got := rank(tt.n, tt.pct); got != tt.want {
			t.Errorf("rank(%d, %d) = %d, want %d", tt.n, tt.pct, got, tt.want)
		}
	}
}
