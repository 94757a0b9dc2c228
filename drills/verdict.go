package drills

import (
	"fmt"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Judge is the drill's verdict on a complete result, computed in one place:
// the report, the JUnit phases and the Gomega matchers all read it. Each
// rule is one of the checks below, which the matchers share, so a spec and
// a report can never disagree. It returns the verdict and its reason.
func Judge(res Result, s Scenario, machinery string) (string, string) {
	if res.Calibration != nil {
		return judgeCalibration(res.Calibration)
	}
	for _, why := range []string{
		checkPromoted(res, s, machinery),
		checkRestored(res),
		checkBudget(res, s.Budget),
		checkErrorBudget(res, s.MaxErrorBudget),
		checkExpectation(res, s, machinery),
	} {
		if why != "" {
			return reports.VerdictFail, why
		}
	}
	return reports.VerdictPass, fmt.Sprintf("restored in %s (budget %s), detected by %s",
		time.Duration(res.MTTR.Total).Round(time.Millisecond), s.Budget, detectedBy(res))
}

// checkExpectation applies what the scenario expects of the machinery.
func checkExpectation(res Result, s Scenario, machinery string) string {
	if res.Seen != "" {
		return res.Seen
	}
	if s.Expect.Steady() {
		if why := checkKeptCanary(res); why != "" {
			return why
		}
		if why := checkServedOnly(res, s.Stable.Name, s.Canary.Name); why != "" {
			return why
		}
		if s.HoldSLO {
			if why := checkHeldSLO(res); why != "" {
				return why
			}
		}
		if s.CanaryDark && res.Lit != "" {
			return res.Lit
		}
		if s.Expect == ExpectPromoted && res.Promoted == "" {
			return fmt.Sprintf("%s never completed the rollout of %s (%s)", machinery, s.Canary.Name, res.Serving.Detail)
		}
		return ""
	}
	return checkRolledBackTo(res, s.Stable.Name, machinery)
}

func detectedBy(res Result) string {
	if res.DetectedBy == "" {
		return "nobody (steady drill)"
	}
	return res.DetectedBy
}

// checkPromoted fails a drill that expected a rollback and whose machinery
// kept the new version instead: it promoted it, or still declared it
// healthy when the budget ran out, while users saw it failing. This is the
// verdict of the expect:caught drills.
func checkPromoted(res Result, s Scenario, machinery string) string {
	if s.Expect.Steady() {
		return ""
	}
	var claim, detail string
	switch {
	case res.Promoted != "":
		claim, detail = "promoted "+s.Canary.Name, res.Promoted
	case res.DeclaredHealthy != "":
		claim, detail = fmt.Sprintf("declared %s healthy past the %s budget", s.Canary.Name, s.Budget), res.DeclaredHealthy
	default:
		return ""
	}
	b := res.ErrorBudget
	return fmt.Sprintf("%s %s, a version users saw failing: %d of %d requests failed from injection on (%.1f%%); %s",
		machinery, claim, b.Failed, b.Total, 100*b.Fraction, detail)
}

// checkRestored fails a result that has no MTTR.
func checkRestored(res Result) string {
	switch {
	case res.MTTR == nil && res.MTTRErr != "":
		return "service was not restored: " + res.MTTRErr
	case res.MTTR == nil:
		return "the drill did not reach restored"
	}
	return ""
}

// checkBudget fails an MTTR over budget, naming the longest phase.
func checkBudget(res Result, budget time.Duration) string {
	if why := checkRestored(res); why != "" {
		return why
	}
	if time.Duration(res.MTTR.Total) <= budget {
		return ""
	}
	return fmt.Sprintf("MTTR exceeds budget %s: %s", budget, res.MTTRSummary())
}

// checkErrorBudget fails a drill whose users saw more failures than the
// scenario allows; limit 0 means no limit.
func checkErrorBudget(res Result, limit float64) string {
	if limit <= 0 || res.ErrorBudget.Fraction <= limit {
		return ""
	}
	b := res.ErrorBudget
	return fmt.Sprintf("error budget exceeded: %d of %d requests failed (%.1f%%), limit %.1f%%", b.Failed, b.Total, 100*b.Fraction, 100*limit)
}

// checkHeldSLO fails a drill in which users saw the SLO break.
func checkHeldSLO(res Result) string {
	if !res.Breached {
		return ""
	}
	return "the SLO broke although the drill must hold it: " + res.MTTRSummary()
}

// checkKeptCanary fails a steady drill whose machinery rolled back anyway,
// or that serves a version other than the canary.
func checkKeptCanary(res Result) string {
	if res.RolledBack != "" {
		return "steady drill, but " + res.RolledBack
	}
	return ""
}

// checkServedOnly fails a drill in which users, or the machinery, were
// served a version other than the ones named.
func checkServedOnly(res Result, versions ...string) string {
	for _, v := range res.ServedBy {
		if !slices.Contains(versions, v) {
			return fmt.Sprintf("after restore users were served %q (%s), want only %v", v, res.ServedAfter, versions)
		}
	}
	for _, v := range res.Serving.Versions {
		if !slices.Contains(versions, v) {
			return fmt.Sprintf("after restore the machinery serves %q (%s), want only %v", v, res.Serving.Detail, versions)
		}
	}
	return ""
}

// checkRolledBackTo fails unless users were served only version after
// restored and the machinery says it serves only that version.
func checkRolledBackTo(res Result, version, machinery string) string {
	switch {
	case res.ServedAfter != version:
		return fmt.Sprintf("after restore users were served %q, want %q", res.ServedAfter, version)
	case !servesOnly(res.Serving, version):
		return fmt.Sprintf("after restore %s says it serves %v (%s), want only %s", machinery, res.Serving.Versions, res.Serving.Detail, version)
	}
	return ""
}

// servesOnly reports whether the machinery serves exactly one version.
func servesOnly(s rollback.Serving, version string) bool {
	return len(s.Versions) == 1 && s.Versions[0] == version
}

// MTTRSummary describes the measured MTTR with its bound and phase split.
func (r *Result) MTTRSummary() string {
	if r == nil || r.MTTR == nil {
		return "no MTTR was measured"
	}
	m := *r.MTTR
	detect := m.Phases.Detect.String()
	if m.NotSeenByUsers {
		detect = "not seen by users"
	}
	s := fmt.Sprintf("measured MTTR %s %s; detect %s, decide %s, actuate %s, recover %s",
		m.Total, m.BoundText(), detect, m.Phases.Decide, m.Phases.Actuate, m.Phases.Recover)
	if m.Longest != "" {
		s += fmt.Sprintf("; longest phase: %s (%s)", m.Longest, phaseDuration(m.Phases, m.Longest))
	}
	return s
}

func phaseDuration(p reports.Phases, name string) reports.Duration {
	switch name {
	case "detect":
		return p.Detect
	case "decide":
		return p.Decide
	case "actuate":
		return p.Actuate
	}
	return p.Recover
}
