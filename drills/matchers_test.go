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
			"within 1s", "measured MTTR 12s ± 20ms", "longest phase: actuate (7s)",
			"detect 1s, decide 1s, actuate 7s, recover 3s",
		}},
		{name: "within budget", matcher: RestoreServiceWithin(30 * time.Second), actual: slow, match: true},
		{name: "exactly the budget", matcher: RestoreServiceWithin(12 * time.Second), actual: slow, match: true},
		{name: "nil result", matcher: RestoreServiceWithin(time.Minute), actual: (*Result)(nil), errWant: "no drill result"},
		{name: "untyped nil", matcher: RestoreServiceWithin(time.Minute), actual: nil, errWant: "no drill result"},
		{name: "not restored", matcher: RestoreServiceWithin(time.Minute),
			actual:  &Result{MTTRErr: "mttr: restored mark is missing: service was never restored"},
			errWant: "service was not restored: mttr: restored mark is missing"},
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
			msgWant: []string{"machinery serves [v1 v2]", "canary v2: 1 replica(s)"}},
		{name: "canary still served", matcher: HaveRolledBackTo("v1"), actual: &Result{ServedAfter: "v1 90.0%, v2 10.0%"},
			msgWant: []string{"served v1 after the rollback", `"v1 90.0%, v2 10.0%"`}},
		{name: "canary served", matcher: HaveRolledBackTo("v1"), actual: &Result{ServedAfter: "v2"}, msgWant: []string{`served "v2"`}},
		{name: "nil result", matcher: HaveRolledBackTo("v1"), actual: (*Result)(nil), errWant: "no drill result"},
	})
}

func TestConsumeErrorBudgetBelow(t *testing.T) {
	budget := func(failed, total int) *Result {
		return &Result{ErrorBudget: reports.ErrorBudget{Failed: failed, Total: total, Fraction: float64(failed) / float64(total)}}
	}
	runMatchCases(t, []matchCase{
		{name: "below", matcher: ConsumeErrorBudgetBelow(0.1), actual: budget(5, 100), match: true},
		{name: "above", matcher: ConsumeErrorBudgetBelow(0.1), actual: budget(25, 100),
			msgWant: []string{"below 0.1", "25 of 100 requests failed", "(0.25)"}},
		{name: "at the bound is not below", matcher: ConsumeErrorBudgetBelow(0.1), actual: budget(10, 100),
			msgWant: []string{"10 of 100"}},
		{name: "nil result", matcher: ConsumeErrorBudgetBelow(0.1), actual: (*Result)(nil), errWant: "no drill result"},
	})
}

func TestMTTRSummaryWithoutMTTR(t *testing.T) {
	for _, r := range []*Result{nil, {MTTRErr: "x"}} {
		if got := r.MTTRSummary(); got != "no MTTR was measured" {
			t.Errorf("MTTRSummary() = %q, want %q", got, "no MTTR was measured")
		}
	}
}
