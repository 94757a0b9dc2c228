package drills

import (
	"fmt"
	"time"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"
)

// RestoreServiceWithin succeeds when the drill's MTTR is within budget. Its
// failure message names the measured MTTR and the phase that took longest.
func RestoreServiceWithin(budget time.Duration) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result: the drill did not get as far as a rollback")
		}
		if r.MTTR == nil {
			return false, fmt.Errorf("service was not restored: %s", r.MTTRErr)
		}
		return time.Duration(r.MTTR.Total) <= budget, nil
	}).WithTemplate("Expected service restored within {{.Data}}, but {{.Actual.MTTRSummary}}", budget)
}

// MTTRSummary describes the measured MTTR with its phase split.
func (r *Result) MTTRSummary() string {
	if r == nil || r.MTTR == nil {
		return "no MTTR was measured"
	}
	m := *r.MTTR
	return fmt.Sprintf("measured MTTR %s ± %s; longest phase: %s (%s); detect %s, decide %s, actuate %s, recover %s",
		m.Total, m.ErrorBound, m.Longest, phaseDuration(m.Phases, m.Longest),
		m.Phases.Detect, m.Phases.Decide, m.Phases.Actuate, m.Phases.Recover)
}

// HaveRolledBackTo succeeds when every successful user request after service
// was restored was answered by version, as seen by the observer, and the
// machinery itself says it serves only that version.
func HaveRolledBackTo(version string) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result")
		}
		return r.ServedAfter == version && servesOnly(r.Serving, version), nil
	}).WithTemplate("Expected users to be served {{.Data}} after the rollback, but they were served {{.Actual.ServedAfter | printf \"%q\"}} and the machinery serves {{.Actual.Serving.Versions}} ({{.Actual.Serving.Detail}})", version)
}

// KeepTheCanary succeeds when the machinery of a steady drill did not roll
// back: it never reported a rollback and still serves the canary.
func KeepTheCanary() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result")
		}
		return r.RolledBack == "", nil
	}).WithTemplate("Expected no rollback in a steady drill, but {{.Actual.RolledBack}}")
}

// ConsumeErrorBudgetBelow succeeds when failed requests between onset and
// restored are under fraction of all requests in that span.
func ConsumeErrorBudgetBelow(fraction float64) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result")
		}
		return r.ErrorBudget.Fraction < fraction, nil
	}).WithTemplate("Expected error budget consumed below {{.Data}}, but {{.Actual.ErrorBudget.Failed}} of {{.Actual.ErrorBudget.Total}} requests failed ({{.Actual.ErrorBudget.Fraction}})", fraction)
}

// StayWithinSLO succeeds when the SLO was never breached after the fault's
// onset: users did not notice the fault.
func StayWithinSLO() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r *Result) (bool, error) {
		if r == nil {
			return false, fmt.Errorf("no drill result")
		}
		return !r.Breached, nil
	}).WithTemplate("Expected the SLO to hold through the fault, but it was breached: {{.Actual.MTTRSummary}}")
}
