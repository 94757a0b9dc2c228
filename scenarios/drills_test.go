package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/audit"
	"github.com/firedrill-dev/firedrill/scenarios"
)

var timeouts = drills.DefaultTimeouts()

// describeDrills builds the drill specs once the harness flags are parsed
// (TestScenarios calls it before RunSpecs), so -firedrill.repeat can shape
// the tree: each repeat is a drill of its own, in a fresh namespace.
func describeDrills() {
	Describe("rollback drills", func() {
		for i := range max(*flagRepeat, *flagCompare) {
			// Past -firedrill.repeat, only the comparison drills run again.
			only := func(s drills.Scenario) bool { return i < *flagRepeat || compared(s) }
			describeRepeat := func(s drills.Scenario, describe func(drills.Scenario, int)) {
				if only(s) {
					describe(s, repeatOf(s, i))
				}
			}
			// Calibration first, so that it runs while the other
			// processes run drills: it must hold under concurrency.
			describeRepeat(scenarios.Calibration, describeCalibration)
			for _, s := range scenarios.Rollbacks {
				describeRepeat(withArgoConfig(s), describeRollback)
			}
			describeRepeat(steadyRolledBackAnyway, describeCaught)
			for _, s := range scenarios.ArgoCaught {
				describeRepeat(s, describeArgoCaught)
			}
			for _, s := range scenarios.FlagCaught {
				describeRepeat(s, describeSlowKillSwitch)
			}
			for _, s := range scenarios.FlaggerDrills {
				describeRepeat(s, describeNotPromoted)
			}
		}
		describeBrokenArgoConfigs()
	})
}

// compared says a drill belongs to the strategy comparison.
func compared(s drills.Scenario) bool { return slices.Contains(s.Labels, scenarios.LabelComparison) }

// repeatsOf is how many times a drill runs.
func repeatsOf(s drills.Scenario) int {
	if compared(s) {
		return max(*flagRepeat, *flagCompare)
	}
	return *flagRepeat
}

// repeatOf numbers the i-th run of a drill, or 0 when it runs once.
func repeatOf(s drills.Scenario, i int) int {
	if repeatsOf(s) > 1 {
		return i + 1
	}
	return 0
}

// specName names a drill's container, with its repeat when repeated.
func specName(s drills.Scenario, repeat int) string {
	if repeat == 0 {
		return s.Name
	}
	return fmt.Sprintf("%s (repeat %d of %d)", s.Name, repeat, repeatsOf(s))
}

// capFaults gives every fault without a duration the duration d, where its
// kind takes one (0 leaves them all alone).
func capFaults(specs []faults.Spec, d time.Duration) []faults.Spec {
	out := slices.Clone(specs)
	for i, f := range out {
		if d <= 0 || f.Duration != 0 {
			continue
		}
		f.Duration = d
		if faults.Check(f, true) == nil {
			out[i] = f
		}
	}
	return out
}

// startDrill creates the drill's namespace with cleanup and the report
// registered first, so that a failure or an interrupt at any later point
// still writes the report, keeps the evidence, and removes the namespace.
func startDrill(ctx context.Context, s drills.Scenario, repeat int, failure *string) *drills.Drill {
	if *flagBudget > 0 {
		s.Budget = *flagBudget
	}
	if *flagRate > 0 {
		s.Rate = *flagRate
	}
	s.Faults = capFaults(s.Faults, *flagFaultDuration)
	opts := drillOptions(ctx)
	opts.Repeat = repeat
	d, err := drills.New(ctx, env.cluster, s, opts)
	Expect(err).NotTo(HaveOccurred())
	started := time.Now()
	writeReport := func(ctx SpecContext) {
		path, err := d.WriteReport(ctx, *failure)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("drill report", path)
		GinkgoWriter.Println("report:", path)
		line := d.Report(*failure).Line(time.Since(started))
		if slices.Contains(s.Labels, scenarios.LabelCaught) {
			line += " (expect:caught: this drill must fail, and its spec asserts why)"
		}
		// Always visible, with or without -v: one line per drill.
		AddReportEntry("▶ "+line, ReportEntryVisibilityAlways)
	}
	// A fault this host cannot run skips the drill before anything is
	// created; the report still says so.
	if reason := d.SkipReason(); reason != "" {
		DeferCleanup(writeReport, NodeTimeout(suiteTimeouts.report))
		return d
	}
	DeferCleanup(func(ctx SpecContext) {
		Expect(d.Cleanup(ctx)).To(Succeed())
	}, NodeTimeout(timeouts.Cleanup))
	DeferCleanup(writeReport, NodeTimeout(suiteTimeouts.report))
	// Before the first write: a cluster that cannot run the machinery is
	// refused in one line, with nothing created.
	Expect(d.Preflight(ctx)).To(Succeed())
	Expect(d.CreateNamespace(ctx)).To(Succeed())
	return d
}

// keepFailure remembers the first failed phase for the drill's report.
func keepFailure(failure *string) {
	AfterEach(func() {
		if r := CurrentSpecReport(); r.Failed() && *failure == "" {
			*failure = r.LeafNodeText + ": " + r.FailureMessage()
		}
	})
}

// describeCalibration comes first in this file: Ginkgo orders specs by
// their code location, and the calibration must start while other drills
// run, to show that the measurement holds under concurrency.
func describeCalibration(s drills.Scenario, repeat int) {
	Describe(specName(s, repeat), containerDecorators(s), func() {
		var d *drills.Drill
		var failure string
		keepFailure(&failure)
		BeforeAll(func(ctx SpecContext) {
			d = startDrill(ctx, s, repeat, &failure)
			Expect(d.DeployStable(ctx)).To(Succeed())
			Expect(d.StartObserver(ctx)).To(Succeed())
			Expect(d.AwaitSteadyState(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.Namespace+timeouts.StableReady+timeouts.SteadyState))

		It("measures every injected outage within the bound it states", func(ctx SpecContext) {
			c, err := d.Calibrate(ctx)
			Expect(err).NotTo(HaveOccurred())
			table := fmt.Sprintf("Calibration at %d Hz, beside %d other drill(s) of this run.\n\n%s", c.RateHz, d.Report("").Concurrent, c.Table())
			GinkgoWriter.Println(table)
			path := filepath.Join(env.runDir, fmt.Sprintf("calibration-%d.md", repeat))
			Expect(os.WriteFile(path, []byte(table), 0o644)).To(Succeed())
			AddReportEntry("calibration table", table)
			Expect(c.Rows).To(HaveLen(len(s.Calibrate)))
			Expect(c.Within()).To(BeTrue(), "calibration off: %s\n%s", c, table)
			Expect(d.Result()).To(drills.Pass())
		}, NodeTimeout(2*timeouts.Restore))
	})
}

func describeRollback(s drills.Scenario, repeat int) {
	describeDrill(s, repeat, func(d **drills.Drill) {
		if s.Expect.Steady() {
			It("rides the fault out without a rollback", func(ctx SpecContext) {
				Expect((*d).ConfirmRestored(ctx)).To(Succeed())
				Expect((*d).Result()).To(drills.KeepTheCanary())
				if s.Expect == drills.ExpectPromoted {
					Expect((*d).Result().Promoted).NotTo(BeEmpty(), "the machinery must complete the rollout: %s", (*d).Result().Serving.Detail)
				}
				Expect((*d).Result()).To(drills.RestoreServiceWithin(budget(s)))
				if s.HoldSLO {
					Expect((*d).Result()).To(drills.StayWithinSLO())
				}
				Expect((*d).Result()).To(drills.Pass())
			}, NodeTimeout(steadyTimeout(s)))
			return
		}

		It("rolls back", func(ctx SpecContext) {
			Expect((*d).AwaitRollback(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.Rollback))

		It("restores service within the MTTR budget", func(ctx SpecContext) {
			Expect((*d).ConfirmRestored(ctx)).To(Succeed())
			Expect((*d).Result()).To(drills.HaveRolledBackTo(s.Stable.Name))
			Expect((*d).Result()).To(drills.RestoreServiceWithin(budget(s)))
			Expect((*d).Result()).To(drills.Pass())
		}, NodeTimeout(timeouts.Restore))
	})
}

// describeDrill is one drill's ordered container: its namespace with
// cleanup, the stable version, the steady state, the canary and the fault's
// onset; then measured adds the specs that judge it.
func describeDrill(s drills.Scenario, repeat int, measured func(d **drills.Drill)) {
	Describe(specName(s, repeat), containerDecorators(s), func() {
		var d *drills.Drill
		var seen *audit.Log
		var failure, skipped string
		keepFailure(&failure)
		BeforeAll(func(ctx SpecContext) {
			d = startDrill(ctx, s, repeat, &failure)
			skipped = d.SkipReason()
			if skipped == "" {
				seen = watchAttributed(d)
			}
		}, NodeTimeout(timeouts.Namespace))
		// A fault this host cannot run skips the rest of the drill.
		BeforeEach(func() {
			if skipped != "" {
				Skip(skipped)
			}
		})

		It("deploys the stable version", func(ctx SpecContext) {
			Expect(d.DeployStable(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.StableReady))

		It("sees a steady state through the user path", func(ctx SpecContext) {
			Expect(d.StartObserver(ctx)).To(Succeed())
			Expect(d.AwaitSteadyState(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.SteadyState))

		It("starts the canary and confirms the fault's onset", func(ctx SpecContext) {
			Expect(d.StartCanary(ctx)).To(Succeed())
			err := d.ConfirmOnset(ctx)
			if errors.Is(err, drills.ErrSkipped) {
				skipped = err.Error()
				Skip(skipped)
			}
			Expect(err).NotTo(HaveOccurred())
		}, NodeTimeout(timeouts.Onset))

		measured(&d)
		itKeepsEveryWrite(&d, &seen)
	})
}

// containerDecorators order a drill's specs and label them; a drill that
// cannot share the cluster (label serial) runs alone, after the others.
func containerDecorators(s drills.Scenario) []any {
	d := []any{Ordered, Label(append(s.Labels, scenarios.MachineryLabel(s))...)}
	if slices.Contains(s.Labels, scenarios.LabelSerial) {
		d = append(d, Serial)
	}
	return d
}

func budget(s drills.Scenario) time.Duration {
	if *flagBudget > 0 {
		return *flagBudget
	}
	return s.Budget
}

// steadyTimeout bounds a steady drill's judgement: the restore, and, for a
// drill that expects a promotion, the wait for the machinery to finish.
func steadyTimeout(s drills.Scenario) time.Duration {
	if s.Expect == drills.ExpectPromoted {
		return timeouts.Restore + timeouts.Rollback
	}
	return timeouts.Restore
}
