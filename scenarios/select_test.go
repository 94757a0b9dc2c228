package scenarios_test

import (
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/rollback"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// suiteScenarios are every drill the suite may run.
func suiteScenarios() []drills.Scenario {
	all := append(scenarios.All(), steadyRolledBackAnyway, argoBrokenConfig, interruptScenario)
	return append(all, crashScenarios...)
}

// selected reports whether Ginkgo's label filter, focus and skip would run
// some spec of scenario s. It errs on the side of yes: a backend installed
// for nothing costs seconds, one missing fails a drill.
func selected(s drills.Scenario) bool {
	cfg, _ := GinkgoConfiguration()
	if cfg.LabelFilter != "" {
		filter, err := types.ParseLabelFilter(cfg.LabelFilter)
		if err == nil && !filter(append(slices.Clone(s.Labels), scenarios.MachineryLabel(s))) {
			return false
		}
	}
	// The container's text and its specs' texts, as a focus could name any.
	text := "rollback drills " + s.Name + " " + specTexts
	if len(cfg.FocusStrings) > 0 && !slices.ContainsFunc(cfg.FocusStrings, matches(text)) {
		return false
	}
	return !slices.ContainsFunc(cfg.SkipStrings, matches(text))
}

// specTexts are the texts of a drill's specs, for focus matching.
const specTexts = "deploys the stable version sees a steady state through the user path " +
	"starts the canary and confirms the fault's onset rolls back restores service within the MTTR budget " +
	"rides the fault out without a rollback measures every injected outage within the bound it states " +
	"fails the drill because the machinery kept a version users saw failing " +
	"argo-rollouts refuses a broken analysis file refuses " +
	"interrupting a drill removes its faults within the kill-switch time and leaves nothing behind " +
	"killing a drill with SIGKILL cleans up after a kill " +
	"fails the drill because the kill switch took longer than its budget"

// matches reports whether a focus or skip pattern matches text; a pattern
// that does not compile matches, so nothing is left out by mistake.
func matches(text string) func(string) bool {
	return func(pattern string) bool {
		re, err := regexp.Compile(pattern)
		return err != nil || re.MatchString(text) || strings.Contains(text, pattern)
	}
}

// selectedBackends are the fault backends some selected drill may use.
func selectedBackends() map[string]bool {
	needs := map[string]bool{}
	for _, s := range suiteScenarios() {
		if !selected(s) {
			continue
		}
		for _, f := range s.Faults {
			for _, b := range faults.MayUse(f) {
				needs[b] = true
			}
		}
		if m, err := rollback.Lookup(s.MachineryName()); err == nil {
			for _, b := range m.Needs {
				needs[b] = true
			}
		}
	}
	return needs
}
