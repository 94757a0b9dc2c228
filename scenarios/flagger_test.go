package scenarios_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/rollback"
)

// describeNotPromoted runs a Flagger drill: the bad version must never be
// promoted. Flagger must fail the Canary on its gate's checks and scale
// the canary to zero within the budget, and users must never see it.
func describeNotPromoted(s drills.Scenario, repeat int) {
	describeDrill(s, repeat, func(d **drills.Drill) {
		It("rolls back", func(ctx SpecContext) {
			Expect((*d).AwaitRollback(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.Rollback))

		It("never promotes the bad version, and users never see it", func(ctx SpecContext) {
			Expect((*d).ConfirmRestored(ctx)).To(Succeed())
			r := (*d).Result()
			Expect(r.Promoted).To(BeEmpty())
			Expect(r.DetectedBy).To(Equal(rollback.DetectedByFlaggerGate))
			Expect(r.Reason).To(MatchRegexp(`^Flagger rolled back: Rolling back app\.\S+ failed checks threshold reached 2$`))
			Expect(evidenceNamed(r.Evidence, "first failed gate check")).To(HavePrefix("failed: canary error ratio 1.00 (20 of 20 test requests"))
			Expect(r.Serving.Detail).To(ContainSubstring("Canary Failed ("))
			Expect(r.Unseen).To(MatchRegexp(fmt.Sprintf(`^%s answered 0 of [1-9]\d* user requests from its start on$`, s.Canary.Name)))
			Expect(r).To(drills.HaveRolledBackTo(s.Stable.Name))
			Expect(r).To(drills.RestoreServiceWithin(budget(s)))
			Expect(r).To(drills.StayWithinSLO())
			Expect(r).To(drills.Pass())
		}, NodeTimeout(timeouts.Restore))
	})
}
