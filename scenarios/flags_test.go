package scenarios_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// describeSlowKillSwitch runs a kill switch whose flag reaches the server
// through a ConfigMap volume, and asserts the exact verdict: fail, because
// the MTTR ran past the budget, with the report saying why it was slow.
func describeSlowKillSwitch(s drills.Scenario, repeat int) {
	describeDrill(s, repeat, func(d **drills.Drill) {
		It("rolls back", func(ctx SpecContext) {
			Expect((*d).AwaitRollback(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.Rollback))

		It("fails the drill because the kill switch took longer than its budget", func(ctx SpecContext) {
			Expect((*d).ConfirmRestored(ctx)).To(Succeed())
			r := (*d).Result()
			Expect(r).To(drills.HaveRolledBackTo(s.Stable.Name))
			Expect(r.Verdict).To(Equal(reports.VerdictFail))
			Expect(r.Why).To(HavePrefix(fmt.Sprintf("MTTR exceeds budget %s: ", s.Budget)))
			slow := evidenceNamed(r.Evidence, "why the flag was slow")
			Expect(slow).To(ContainSubstring("mounted at /flags, which the kubelet rewrites only when it next syncs the pod"))
			Expect(slow).To(MatchRegexp(`the server saw the write \d+\.\d s after it`))
		}, NodeTimeout(timeouts.Restore))
	})
}

// evidenceNamed is the value of the machinery's evidence called name.
func evidenceNamed(ev []rollback.Evidence, name string) string {
	var names []string
	for _, e := range ev {
		if e.Name == name {
			return e.Value
		}
		names = append(names, e.Name)
	}
	Fail(fmt.Sprintf("no evidence %q among %s", name, strings.Join(names, ", ")))
	return ""
}
