package reports

import (
	"strings"
	"testing"
	"time"
)

func comparisonRun(machinery string, mttr, detect time.Duration, failed, peak int) *Report {
	d := func(x time.Duration) Duration { return Duration(x) }
	return &Report{Scenario: machinery + "-bad", Machinery: machinery, Labels: []string{LabelComparison}, Verdict: VerdictPass,
		MTTR:            &MTTR{Total: d(mttr), Phases: Phases{Detect: d(detect), Decide: d(time.Second), Actuate: d(mttr - detect - time.Second)}},
		ErrorBudget:     ErrorBudget{Failed: failed},
		BadVersionShare: &Share{Served: failed, Total: 1000, Fraction: float64(failed) / 1000},
		Pods:            &PodCount{AtCanary: 4, Peak: peak}}
}

func TestStrategies(t *testing.T) {
	rs := []*Report{
		comparisonRun("argo-rollouts", 16*time.Second, 11*time.Second, 300, 5),
		comparisonRun("argo-rollouts", 18*time.Second, 12*time.Second, 340, 6),
		comparisonRun("argo-rollouts", 30*time.Second, 20*time.Second, 500, 5),
		comparisonRun("feature-flag", 3*time.Second, time.Second, 60, 4),
		comparisonRun("feature-flag", 4*time.Second, 2*time.Second, 80, 4),
		{Scenario: "not-compared", Machinery: "canary-hook", Verdict: VerdictPass},
	}
	skipped := comparisonRun("blue-green", time.Second, 0, 0, 4)
	skipped.Verdict = VerdictSkipped
	rows := Strategies(append(rs, skipped))
	if len(rows) != 2 || rows[0].Machinery != "feature-flag" || rows[1].Machinery != "argo-rollouts" {
		t.Fatalf("rows = %+v, want feature-flag then argo-rollouts (fastest p50 first), nothing else", rows)
	}
	argo := rows[1]
	if argo.Runs != 3 || argo.P50.MTTR != Duration(18*time.Second) || argo.Max.MTTR != Duration(30*time.Second) || argo.Phases.Detect != Duration(12*time.Second) {
		t.Errorf("argo row %+v: want 3 runs, p50 18 s, max 30 s, detect p50 12 s", argo)
	}
	if argo.Failed != 340 || argo.BadShare != 0.34 || argo.PeakPods != 5 || argo.ExtraPods != 1 {
		t.Errorf("argo row: failed %d, share %v, pods %d (+%d); want 340, 0.34, 5 (+1)", argo.Failed, argo.BadShare, argo.PeakPods, argo.ExtraPods)
	}
	var md strings.Builder
	if err := WriteStrategiesMarkdown(&md, rows); err != nil {
		t.Fatal(err)
	}
	if want := "| `argo-rollouts`: canary (Argo Rollouts); its analysis aborts it | 3 of 3 | 18.00 s"; !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, md.String())
	}
	var page strings.Builder
	if err := WriteStrategiesHTML(&page, rows); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(page.String(), "<circle"); n != 5 {
		t.Errorf("plot has %d dots, want one per run (5)", n)
	}
	for _, problem := range htmlExternalReferences(page.String()) {
		t.Error(problem)
	}
}
