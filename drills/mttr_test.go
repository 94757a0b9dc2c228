package drills

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
)

// marks builds Marks from second offsets; a negative offset leaves the mark
// missing (zero).
func marks(onset, detected, decided, actuated, restored float64) Marks {
	mark := func(s float64) time.Time {
		if s < 0 {
			return time.Time{}
		}
		return at(sec(s))
	}
	return Marks{T0: base, Onset: mark(onset), Detected: mark(detected), Decided: mark(decided), Actuated: mark(actuated), Restored: mark(restored)}
}

func phases(detect, decide, actuate, recover float64) reports.Phases {
	d := func(s float64) reports.Duration { return reports.Duration(sec(s)) }
	return reports.Phases{Detect: d(detect), Decide: d(decide), Actuate: d(actuate), Recover: d(recover)}
}

const missing = -1

func TestComputeMTTR(t *testing.T) {
	tests := []struct {
		name    string
		m       Marks
		phases  reports.Phases
		longest string
	}{
		{"in order", marks(10, 11, 13, 16, 20), phases(1, 2, 3, 4), "recover"},
		{"decided before detected", marks(10, 14, 12, 16, 20), phases(2, 0, 4, 4), "actuate"},
		{"restored before actuated", marks(10, 11, 13, 25, 20), phases(1, 2, 7, 0), "actuate"},
		{"detected after everything", marks(10, 21, 13, 16, 20), phases(3, 0, 3, 4), "recover"},
		{"mark before onset", marks(10, 8, 13, 16, 20), phases(0, 3, 3, 4), "recover"},
		{"tie goes to the earlier phase", marks(10, 13, 14, 15, 18), phases(3, 1, 1, 3), "detect"},
		{"decided missing", marks(10, 11, missing, 16, 20), phases(1, 0, 0, 4), "recover"},
		{"detected missing", marks(10, missing, 13, 16, 20), phases(0, 0, 3, 4), "recover"},
		{"actuated missing", marks(10, 11, 13, missing, 20), phases(1, 2, 0, 0), "decide"},
		{"no machinery marks", marks(10, missing, missing, missing, 20), phases(0, 0, 0, 0), ""},
		{"recovered before detection", marks(10, missing, missing, missing, 10), phases(0, 0, 0, 0), ""},
	}
	for _, tt := range tests {
		got, err := ComputeMTTR(tt.m, time.Minute)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := reports.MTTR{
			Total:   reports.Duration(tt.m.Restored.Sub(tt.m.Onset)),
			Phases:  tt.phases,
			Budget:  reports.Duration(time.Minute),
			Longest: tt.longest,
		}
		if got != want {
			t.Errorf("%s: ComputeMTTR =\n %+v\nwant\n %+v", tt.name, got, want)
		}
	}
}

// TestComputeMTTRBound: the ends' bounds combine into MTTR's, and the lower
// side never goes below zero.
func TestComputeMTTRBound(t *testing.T) {
	m := marks(10, 11, 13, 16, 20)
	m.OnsetBound = Bound{Before: 0, After: 300 * time.Millisecond}
	m.RestoredBound = Bound{Before: 1600 * time.Millisecond, After: 20 * time.Millisecond}
	got, err := ComputeMTTR(m, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.Minus != reports.Duration(1900*time.Millisecond) || got.Plus != reports.Duration(20*time.Millisecond) {
		t.Errorf("bound = −%s/+%s, want −1.9s/+20ms", got.Minus, got.Plus)
	}
	if s := got.BoundText(); s != "(−1.900/+0.020 s)" {
		t.Errorf("BoundText() = %q", s)
	}
	short := marks(10, missing, missing, missing, 10.5)
	short.RestoredBound = Bound{Before: 2 * time.Second}
	if got, _ := ComputeMTTR(short, time.Minute); got.Minus != got.Total {
		t.Errorf("bound −%s below zero for MTTR %s", got.Minus, got.Total)
	}
}

func TestComputeMTTRPhasesSumToTotal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		r := func() float64 { return float64(rng.IntN(30000)) / 1000 }
		onset := r()
		m := marks(onset, r(), r(), r(), onset+r())
		got, err := ComputeMTTR(m, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		p := got.Phases
		for _, d := range []reports.Duration{p.Detect, p.Decide, p.Actuate, p.Recover} {
			if d < 0 {
				t.Fatalf("negative phase in %+v for marks %+v", got, m)
			}
		}
		if sum := p.Detect + p.Decide + p.Actuate + p.Recover; sum != got.Total {
			t.Fatalf("phases %+v sum to %v, want total %v (marks %+v)", p, sum, got.Total, m)
		}
	}
}

func TestComputeMTTRMissingEnds(t *testing.T) {
	tests := []struct {
		name string
		m    Marks
		want []string
	}{
		{"no onset", marks(missing, 11, 13, 16, 20), []string{"onset"}},
		{"never restored", marks(10, 11, 13, 16, missing), []string{"restored", "never restored"}},
		{"neither", marks(missing, 11, 13, 16, missing), []string{"onset", "restored"}},
		{"restored before onset", marks(10, 11, 13, 16, 9), []string{"restored", "precedes onset"}},
	}
	for _, tt := range tests {
		got, err := ComputeMTTR(tt.m, time.Minute)
		if err == nil {
			t.Errorf("%s: ComputeMTTR = %+v, want an error", tt.name, got)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tt.name, err, w)
			}
		}
	}
}

func TestAnalyzeThenComputeMTTR(t *testing.T) {
	ss := stream(30*time.Second, during(sec(5), sec(8)))
	a := Analyze(ss, drillSLO, at(sec(5)), every)
	m := Marks{T0: base, Onset: at(sec(5)), Detected: a.Detected, Decided: at(sec(6)), Actuated: at(sec(7.5)), Restored: a.Restored}
	got, err := ComputeMTTR(m, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := reports.MTTR{
		Total:   reports.Duration(sec(3.9)),
		Phases:  phases(0.05, 0.95, 1.5, 1.4),
		Budget:  reports.Duration(5 * time.Second),
		Longest: "actuate",
	}
	if got != want {
		t.Errorf("ComputeMTTR =\n %+v\nwant\n %+v", got, want)
	}
	b := BudgetConsumed(ss, m.Onset, a.Restored)
	if b.Failed != a.Failed || b.Total != a.Total {
		t.Errorf("BudgetConsumed = %+v, want the analysis counts %d/%d", b, a.Failed, a.Total)
	}
}

func TestBudgetConsumed(t *testing.T) {
	// 200 samples over [0, 10s); failures over [2s, 3s) are 20 samples.
	ss := stream(10*time.Second, during(sec(2), sec(3)))
	tests := []struct {
		name     string
		from, to time.Time
		want     reports.ErrorBudget
	}{
		{"inclusive both ends", at(sec(2)), at(sec(3.95)), reports.ErrorBudget{Failed: 20, Total: 40, Fraction: 0.5}},
		{"to excludes later", at(sec(2)), at(sec(2.45)), reports.ErrorBudget{Failed: 10, Total: 10, Fraction: 1}},
		{"from excludes earlier", at(sec(2.95)), at(sec(4.9)), reports.ErrorBudget{Failed: 1, Total: 40, Fraction: 0.025}},
		{"zero to is open-ended", at(sec(2)), time.Time{}, reports.ErrorBudget{Failed: 20, Total: 160, Fraction: 0.125}},
		{"no samples", at(sec(20)), time.Time{}, reports.ErrorBudget{}},
		{"to before from", at(sec(3)), at(sec(2)), reports.ErrorBudget{}},
	}
	for _, tt := range tests {
		if got := BudgetConsumed(ss, tt.from, tt.to); got != tt.want {
			t.Errorf("%s: BudgetConsumed = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var ss []Sample
	for i := 1; i <= 100; i++ {
		ss = append(ss, Sample{At: at(time.Duration(i) * time.Second), Latency: time.Duration(i) * time.Millisecond, Status: 200})
	}
	ss[0].Status, ss[0].Err = 0, "timeout" // failed samples still count
	rand.New(rand.NewPCG(8, 9)).Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
	ms := time.Millisecond
	three := []Sample{
		{At: at(9 * time.Second), Latency: time.Hour}, // before from
		{At: at(10 * time.Second), Latency: 30 * ms},
		{At: at(20 * time.Second), Latency: 10 * ms},
		{At: at(30 * time.Second), Latency: 20 * ms},
		{At: at(31 * time.Second), Latency: time.Hour}, // after to
	}
	tests := []struct {
		name          string
		ss            []Sample
		from, to      time.Time
		p50, p90, p99 time.Duration
	}{
		{"nearest rank of 100", ss, at(0), time.Time{}, 50 * ms, 90 * ms, 99 * ms},
		{"inclusive span of three", three, at(10 * time.Second), at(30 * time.Second), 20 * ms, 30 * ms, 30 * ms},
		{"single", ss, at(7 * time.Second), at(7 * time.Second), 7 * ms, 7 * ms, 7 * ms},
		{"none", ss, at(time.Hour), time.Time{}, 0, 0, 0},
	}
	for _, tt := range tests {
		p50, p90, p99 := Percentiles(tt.ss, tt.from, tt.to)
		if p50 != tt.p50 || p90 != tt.p90 || p99 != tt.p99 {
			t.Errorf("%s: Percentiles = %v %v %v, want %v %v %v", tt.name, p50, p90, p99, tt.p50, tt.p90, tt.p99)
		}
	}
}
