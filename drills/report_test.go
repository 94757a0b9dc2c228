package drills

import (
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// slowActuation is a 12s MTTR measured at 50 Hz against budget, split
// detect 1s, decide 1s, actuate 7s, recover 3s.
func slowActuation(t *testing.T, budget time.Duration) *reports.MTTR {
	t.Helper()
	m, err := ComputeMTTR(withBounds(marks(10, 11, 12, 19, 22)), budget)
	if err != nil {
		t.Fatalf("ComputeMTTR: %v", err)
	}
	if time.Duration(m.Total) != 12*time.Second || m.Longest != "actuate" {
		t.Fatalf("fixture: MTTR %s longest %q, want 12s and actuate", m.Total, m.Longest)
	}
	return &m
}

// withBounds gives marks the bounds of a 50 Hz observer: onset and
// restored sampled, restored 20 ms after the last failure.
func withBounds(m Marks) Marks {
	m.OnsetBound, m.RestoredBound = sampledBound(hz50), Bound{Before: hz50}
	return m
}

func TestVerdict(t *testing.T) {
	calibration := func(within bool) *Calibration {
		return &Calibration{RateHz: 50, Rows: []reports.CalibrationRow{{RateHz: 50, Within: within}}}
	}
	tests := []struct {
		name    string
		budget  time.Duration
		res     func(t *testing.T, budget time.Duration) Result
		failure string
		verdict string
		reason  []string // substrings of the reason
	}{
		{"impossible budget", time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1", DetectedBy: rollback.DetectedByHarness}
		}, "", reports.VerdictFail, []string{"MTTR 12s", "± 0.020 s", "exceeds budget 1s", "longest phase: actuate (7s)"}},
		{"within budget", 30 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1", DetectedBy: rollback.DetectedByHarness, Serving: servingOnly("v1")}
		}, "", reports.VerdictPass, []string{"restored in 12s", "budget 30s", "detected by harness SLO monitor"}},
		{"exactly the budget", 12 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1", DetectedBy: "kubernetes signals", Serving: servingOnly("v1")}
		}, "", reports.VerdictPass, []string{"restored in 12s", "kubernetes signals"}},
		{"machinery still routes to the canary", 30 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1", Serving: rollback.Serving{Versions: []string{"v1", "v2"}, Detail: "canary: 1 replica(s)"}}
		}, "", reports.VerdictFail, []string{"toy says it serves [v1 v2]", "canary: 1 replica(s)", "want only v1"}},
		{"canary still served", 30 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1 90.0%, v2 10.0%"}
		}, "", reports.VerdictFail, []string{`served "v1 90.0%, v2 10.0%"`, `want "v1"`}},
		{"nothing served after restore", 30 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b)}
		}, "", reports.VerdictFail, []string{`served ""`}},
		{"spec failure wins", 30 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1"}
		}, "confirm onset: not done within 2m0s", reports.VerdictFail, []string{"confirm onset: not done within 2m0s"}},
		{"no MTTR, with a reason", 30 * time.Second, func(*testing.T, time.Duration) Result {
			return Result{MTTRErr: "mttr: restored mark is missing: service was never restored"}
		}, "", reports.VerdictFail, []string{"service was never restored"}},
		{"no MTTR at all", 30 * time.Second, func(*testing.T, time.Duration) Result { return Result{} },
			"", reports.VerdictFail, []string{"did not reach restored"}},
		{"calibration within its bounds", 0, func(*testing.T, time.Duration) Result {
			return Result{Calibration: calibration(true)}
		}, "", reports.VerdictPass, []string{"1 outages at 50 Hz, every one measured within its stated bound"}},
		{"calibration off", 0, func(*testing.T, time.Duration) Result {
			return Result{Calibration: calibration(false)}
		}, "", reports.VerdictFail, []string{"calibration off", "1 of 1 outages"}},
		{"error budget over the scenario's limit", 30 * time.Second, func(t *testing.T, b time.Duration) Result {
			return Result{MTTR: slowActuation(t, b), ServedAfter: "v1", Serving: servingOnly("v1"), ErrorBudget: reports.ErrorBudget{Failed: 30, Total: 100, Fraction: 0.3}}
		}, "", reports.VerdictFail, []string{"error budget exceeded", "30 of 100", "limit 20.0%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Drill{Scenario: Scenario{Name: "bad-canary", Stable: rollback.Version{Name: "v1", Replicas: 1}, Budget: tt.budget, MaxErrorBudget: 0.2},
				machinery: &toyMachinery{}}
			verdict, reason := d.verdict(tt.res(t, tt.budget), tt.failure)
			if verdict != tt.verdict {
				t.Errorf("verdict = %q (%s), want %q", verdict, reason, tt.verdict)
			}
			for _, w := range tt.reason {
				if !strings.Contains(reason, w) {
					t.Errorf("reason = %q, want it to contain %q", reason, w)
				}
			}
		})
	}
}

func servingOnly(v string) rollback.Serving { return rollback.Serving{Versions: []string{v}} }

func TestMTTROverBudgetNamesLongestPhase(t *testing.T) {
	tests := []struct {
		name  string
		marks Marks
		want  string
	}{
		{"detect", marks(10, 18, 19, 20, 22), "longest phase: detect (8s)"},
		{"decide", marks(10, 11, 18, 20, 22), "longest phase: decide (7s)"},
		{"actuate", marks(10, 11, 12, 19, 22), "longest phase: actuate (7s)"},
		{"recover", marks(10, 11, 12, 13, 22), "longest phase: recover (9s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ComputeMTTR(withBounds(tt.marks), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got := checkBudget(Result{MTTR: &m}, time.Second)
			if !strings.Contains(got, "MTTR exceeds budget 1s: measured MTTR 12s ± 0.020 s") || !strings.Contains(got, tt.want) {
				t.Errorf("checkBudget() = %q, want the 12s MTTR, the 1s budget and %q", got, tt.want)
			}
		})
	}
}
