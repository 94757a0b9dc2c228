package drills

import (
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// matchCase is one actual value against one matcher: the match it should
// give, and what its error or failure message must say.
type matchCase struct {
	name    string
	matcher types.GomegaMatcher
	actual  any
	match   bool
	errWant string   // substring of the match error; "" for no error
	msgWant []string // substrings of the failure message when match is false
}

func runMatchCases(t *testing.T, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := tt.matcher.Match(tt.actual)
			switch {
			case tt.errWant != "" && (err == nil || !strings.Contains(err.Error(), tt.errWant)):
				t.Fatalf("Match() error = %v, want one containing %q", err, tt.errWant)
			case tt.errWant == "" && err != nil:
				t.Fatalf("Match() error = %v, want none", err)
			}
			if ok != tt.match {
				t.Fatalf("Match() = %v, want %v", ok, tt.match)
			}
			if tt.match || tt.errWant != "" {
				return
			}
			msg := tt.matcher.FailureMessage(tt.actual)
			for _, w := range tt.msgWant {
				if !strings.Contains(msg, w) {
					t.Errorf("FailureMessage() = %q, want it to contain %q", msg, w)
				}
			}
		})
	}
}

func TestRestoreServiceWithin(t *testing.T) {
	slow := &Result{MTTR: slowActuation(t, time.Second)}
	runMatchCases(t, []matchCase{
		{name: "over budget", matcher: RestoreServiceWithin(time.Second), actual: slow, msgWant: []string{
			"within 1s", "measured MTTR 12s ± 0.020 s", "longest phase: actuate (7s)",
			"detect 1s, decide 1s, actuate 7s, recover 3s",
		}},
		{name: "within budget", matcher: RestoreServiceWithin(30 * time.Second), actual: slow, match: true},
		{name: "exactly the budget", matcher: RestoreServiceWithin(12 * time.Second), actual: slow, match: true},
		{name: "nil result", matcher: RestoreServiceWithin(time.Minute), actual: (*Result)(nil), errWant: "no drill result"},
		{name: "untyped nil", matcher: RestoreServiceWithin(time.Minute), actual: nil, errWant: "no drill result"},
		{name: "not restored", matcher: RestoreServiceWithin(time.Minute),
			actual:  &Result{MTTRErr: "mttr: restored mark is missing: service was never restored"},
			msgWant: []string{"service was not restored: mttr: restored mark is missing"}},
		{name: "not a *Result", matcher: RestoreServiceWithin(time.Minute), actual: Result{}, errWant: "*drills.Result"},
	})
}

func TestKeepTheCanary(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "kept", matcher: KeepTheCanary(), actual: &Result{}, match: true},
		{name: "rolled back", matcher: KeepTheCanary(), actual: &Result{RolledBack: "the machinery rolled back at t0+3.000s"},
			msgWant: []string{"no rollback in a steady drill", "rolled back at t0+3.000s"}},
		{name: "nil result", matcher: KeepTheCanary(), actual: (*Result)(nil), errWant: "no drill result"},
	})
}

func TestHaveRolledBackTo(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "stable served", matcher: HaveRolledBackTo("v1"), actual: &Result{ServedAfter: "v1", Serving: servingOnly("v1")}, match: true},
		{name: "users see stable but the machinery still routes to the canary", matcher: HaveRolledBackTo("v1"),
			actual:  &Result{ServedAfter: "v1", Serving: rollback.Serving{Versions: []string{"v1", "v2"}, Detail: "canary v2: 1 replica(s)"}},
			msgWant: []string{"says it serves [v1 v2]", "canary v2: 1 replica(s)"}},
		{name: "canary still served", matcher: HaveRolledBackTo("v1"), actual: &Result{ServedAfter: "v1 90.0%, v2 10.0%"},
			msgWant: []string{"served v1 after the rollback", `"v1 90.0%, v2 10.0%"`}},
		{name: "canary served", matcher: HaveRolledBackTo("v1"), actual: &Result{ServedAfter: "v2"}, msgWant: []string{`served "v2"`}},
		{name: "nil result", matcher: HaveRolledBackTo("v1"), actual: (*Result)(nil), errWant: "no drill result"},
	})
}

func TestConsumeErrorBudgetWithin(t *testing.T) {
	budget := func(failed, total int) *Result {
		return &Result{ErrorBudget: reports.ErrorBudget{Failed: failed, Total: total, Fraction: float64(failed) / float64(total)}}
	}
	runMatchCases(t, []matchCase{
		{name: "below", matcher: ConsumeErrorBudgetWithin(0.1), actual: budget(5, 100), match: true},
		{name: "above", matcher: ConsumeErrorBudgetWithin(0.1), actual: budget(25, 100),
			msgWant: []string{"at most 10.0%", "25 of 100 requests failed", "(25.0%)"}},
		{name: "at the limit is within", matcher: ConsumeErrorBudgetWithin(0.1), actual: budget(10, 100), match: true},
		{name: "nil result", matcher: ConsumeErrorBudgetWithin(0.1), actual: (*Result)(nil), errWant: "no drill result"},
	})
}

func TestPass(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "pass", matcher: Pass(), actual: &Result{Verdict: reports.VerdictPass}, match: true},
		{name: "fail", matcher: Pass(), actual: &Result{Verdict: reports.VerdictFail, Why: "steady drill, but the machinery rolled back"},
			msgWant: []string{"verdict is fail", "steady drill, but the machinery rolled back"}},
		{name: "nil result", matcher: Pass(), actual: (*Result)(nil), errWant: "no drill result"},
	})
}

// TestMatchersAgreeWithJudge: for each way a result can fail, the verdict's
// reason is the failure message of the matcher for that rule.
func TestMatchersAgreeWithJudge(t *testing.T) {
	s := Scenario{Name: "x", Stable: rollback.Version{Name: "v1"}, Canary: rollback.Version{Name: "v2"}, Budget: 10 * time.Second, MaxErrorBudget: 0.1}
	good := func() Result {
		return Result{MTTR: slowActuation(t, s.Budget), ServedAfter: "v1", ServedBy: []string{"v1"}, Serving: servingOnly("v1")}
	}
	over := good()
	over.MTTR.Total = reports.Duration(11 * time.Second)
	spent := good()
	spent.MTTR.Total, spent.ErrorBudget = reports.Duration(5*time.Second), reports.ErrorBudget{Failed: 20, Total: 100, Fraction: 0.2}
	mixed := good()
	mixed.MTTR.Total, mixed.ServedAfter = reports.Duration(5*time.Second), "v1 90.0%, v2 10.0%"
	for name, c := range map[string]struct {
		res     Result
		matcher types.GomegaMatcher
	}{
		"over budget":  {over, RestoreServiceWithin(s.Budget)},
		"budget spent": {spent, ConsumeErrorBudgetWithin(s.MaxErrorBudget)},
		"canary left":  {mixed, HaveRolledBackTo("v1")},
	} {
		verdict, why := Judge(c.res, s, "the machinery")
		ok, _ := c.matcher.Match(&c.res)
		if verdict != reports.VerdictFail || ok {
			t.Errorf("%s: Judge = %s, matcher match = %v; want both to fail", name, verdict, ok)
			continue
		}
		if msg := c.matcher.FailureMessage(&c.res); !strings.Contains(msg, why) {
			t.Errorf("%s: matcher says %q, verdict says %q", name, msg, why)
		}
	}
}

func TestMTTRSummaryWithoutMTTR(t *testing.T) {
	for _, r := range []*Result{nil, {MTTRErr: "x"}} {
		if got := r.MTTRSummary(); got != "no MTTR was measured" {
			t.Errorf("MTTRSummary() = %q, want %q", got, "no MTTR was measured")
		}
	}
}

// A machinery that kept a bad version fails a rollback drill for that
// reason, before anything else; a steady drill that expects a promotion
// fails without one.
func TestJudgeKeptBadVersion(t *testing.T) {
	s := Scenario{Name: "x", Stable: rollback.Version{Name: "v1"}, Canary: rollback.Version{Name: "v2"}, Budget: 45 * time.Second}
	spent := reports.ErrorBudget{Failed: 30, Total: 120, Fraction: 0.25}
	for name, tt := range map[string]struct {
		res  Result
		want string
	}{
		"promoted": {Result{Promoted: "the controller promoted v2: Healthy", ErrorBudget: spent, MTTRErr: "nothing restored service"},
			"argo promoted v2, a version users saw failing: 30 of 120 requests failed from injection on (25.0%); the controller promoted v2: Healthy"},
		"declared healthy": {Result{DeclaredHealthy: "Rollout Degraded; AnalysisRun r Running: 9 Successful", ErrorBudget: spent},
			"argo declared v2 healthy past the 45s budget, a version users saw failing: 30 of 120 requests failed"},
	} {
		verdict, why := Judge(tt.res, s, "argo")
		if verdict != reports.VerdictFail || !strings.HasPrefix(why, tt.want) {
			t.Errorf("%s: Judge = %s, %q; want fail, %q", name, verdict, why, tt.want)
		}
	}
	steady := s
	steady.Expect = ExpectPromoted
	res := Result{MTTR: slowActuation(t, s.Budget), ServedAfter: "v2", ServedBy: []string{"v2"}, Serving: rollback.Serving{Versions: []string{"v2"}}}
	res.MTTR.Total = reports.Duration(time.Second)
	if verdict, why := Judge(res, steady, "argo"); verdict != reports.VerdictFail || !strings.HasPrefix(why, "argo never completed the rollout of v2") {
		t.Errorf("no promotion: Judge = %s, %q; want fail, never completed", verdict, why)
	}
	res.Promoted = "the controller promoted v2: Healthy"
	if verdict, why := Judge(res, steady, "argo"); verdict != reports.VerdictPass {
		t.Errorf("promoted: Judge = %s, %q; want pass", verdict, why)
	}
}
