package reports

import (
	"strings"
	"testing"
	"time"
)

// fiveRuns is one scenario repeated five times: MTTRs 3, 4, 5 and 9 s and
// one run that never restored, which fails; plus a skipped scenario.
func fiveRuns() []*Report {
	return []*Report{
		baselineDrill("undo", "a", 1*time.Second, 5*time.Second, VerdictPass),
		baselineDrill("undo", "b", 2*time.Second, 3*time.Second, VerdictPass),
		baselineDrill("undo", "c", 3*time.Second, -1, VerdictFail),
		baselineDrill("undo", "d", 4*time.Second, 9*time.Second, VerdictPass),
		baselineDrill("undo", "e", 5*time.Second, 4*time.Second, VerdictPass),
		baselineDrill("partition", "s", 6*time.Second, -1, VerdictSkipped),
	}
}

func TestDistributions(t *testing.T) {
	ds := Distributions(fiveRuns())
	if len(ds) != 1 {
		t.Fatalf("Distributions = %+v, want only undo (partition was skipped)", ds)
	}
	d := ds[0]
	switch {
	case d.Runs != 5 || d.Passed != 4 || d.Failed != 1:
		t.Errorf("runs %d passed %d failed %d, want 5, 4, 1", d.Runs, d.Passed, d.Failed)
	case d.P50.MTTR != Duration(5*time.Second) || d.P50.DrillID != "a":
		t.Errorf("p50 = %+v, want drill a at 5 s", d.P50)
	case d.P90.Restored || d.Max.Restored:
		t.Errorf("p90 %+v and max %+v must be the unrestored run", d.P90, d.Max)
	case d.FlakeRate != 0.2:
		t.Errorf("flake rate %v, want 0.2", d.FlakeRate)
	case len(d.MTTRs) != 4:
		t.Errorf("MTTRs %v, want the four restored runs", d.MTTRs)
	}
}

func TestCompareByPercentile(t *testing.T) {
	base := &Baseline{Schema: BaselineSchemaVersion, Scenarios: map[string]BaselineEntry{"undo": {MTTR: Duration(5 * time.Second)}}}
	rs := fiveRuns()[:4] // 5, 3, none, 9 s; p50 is 5 s, latest is 9 s
	if c := CompareBy(base, rs, StatP50, 0.2, 0); c.Failed() {
		t.Errorf("p50 gate failed: %s", c)
	}
	if c := CompareBy(base, rs, StatLatest, 0.2, 0); len(c.Regressions) != 1 {
		t.Errorf("latest gate = %s, want the 9 s run to regress", c)
	}
	if c := CompareBy(base, rs, StatP90, 0.2, 0); len(c.NotRestored) != 1 {
		t.Errorf("p90 gate = %s, want the unrestored run to count as not restored", c)
	}
	if _, err := ParseStat("p99"); err == nil || !strings.Contains(err.Error(), "p50, p90") {
		t.Errorf("ParseStat(p99) = %v, want an error naming the stats", err)
	}
	nb := NewBaselineBy(fiveRuns(), StatP50)
	if got := nb.Scenarios["undo"]; got.MTTR != Duration(5*time.Second) || got.DrillID != "a" {
		t.Errorf("p50 baseline = %+v, want drill a at 5 s", got)
	}
}

func TestRepeatsInSummaryAndIndex(t *testing.T) {
	var md, html strings.Builder
	if err := WriteMarkdown(&md, fiveRuns()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| undo | 4 of 5 | 5.00 s ± 0.000 s | not restored | not restored | 20% |") {
		t.Errorf("summary lacks the distribution row:\n%s", md.String())
	}
	if err := WriteIndex(&html, fiveRuns()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "<circle"); n != 4 {
		t.Errorf("strip plot has %d dots, want one per restored run (4)", n)
	}
	var single strings.Builder
	if err := WriteIndex(&single, fiveRuns()[:1]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(single.String(), "MTTR across repeats") {
		t.Error("an index without repeats shows a distribution")
	}
}
