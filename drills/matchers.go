package drills

import (
	"fmt"
	"time"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/firedrill-dev/firedrill/reports"
)

// The matchers read the checks that Judge is made of, so a spec and the
// drill's report judge alike. Pass reads the verdict itself.

// Pass succeeds when the drill's verdict is pass; its failure message is
// the verdict's reason.
func Pass() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result: the drill did not get as far as a rollback")
		}
		return r.Verdict == reports.VerdictPass, nil
	}).WithTemplate("Expected the drill to pass, but its verdict is {{.Actual.Verdict}}: {{.Actual.Why}}")
}

// checkMatcher makes a matcher of one check: it fails with the check's
// reason.
func checkMatcher(what string, check func(Result) string) types.GomegaMatcher {
	var why string
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result: the drill did not get as far as a rollback")
		}
		why = check(*r)
		return why == "", nil
	}).WithTemplate("Expected {{.Data.What}}, but {{.Data.Why}}", &matcherData{What: what, why: &why})
}

// matcherData lets the failure message read the reason of the last match.
type matcherData struct {
	What string
	why  *string
}

// Why is the reason the last match failed.
func (m *matcherData) Why() string { return *m.why }

// RestoreServiceWithin succeeds when the drill's MTTR is within budget. Its
// failure message names the measured MTTR and the phase that took longest.
func RestoreServiceWithin(budget time.Duration) types.GomegaMatcher {
	return checkMatcher("service restored within "+budget.String(), func(r Result) string { return checkBudget(r, budget) })
}

// HaveRolledBackTo succeeds when every successful user request after service
// was restored was answered by version, as seen by the observer, and the
// machinery itself says it serves only that version.
func HaveRolledBackTo(version string) types.GomegaMatcher {
	return checkMatcher("users served "+version+" after the rollback", func(r Result) string {
		return checkRolledBackTo(r, version, "the machinery")
	})
}

// KeepTheCanary succeeds when the machinery of a steady drill did not roll
// back: it never reported a rollback and still serves the canary.
func KeepTheCanary() types.GomegaMatcher {
	return checkMatcher("no rollback in a steady drill", checkKeptCanary)
}

// ConsumeErrorBudgetWithin succeeds when failed requests between injection
// and restored are at most fraction of all requests in that span.
func ConsumeErrorBudgetWithin(fraction float64) types.GomegaMatcher {
	return checkMatcher(fmt.Sprintf("at most %.1f%% of requests failed", 100*fraction), func(r Result) string {
		return checkErrorBudget(r, fraction)
	})
}

// StayWithinSLO succeeds when the SLO was never breached after the fault's
// injection: users did not notice the fault.
func StayWithinSLO() types.GomegaMatcher {
	return checkMatcher("the SLO to hold through the fault", checkHeldSLO)
}
