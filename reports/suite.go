package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SuiteSchemaVersion tags the suite report, so that LoadDir and other
// readers can tell it apart from the drill reports it sits next to.
const SuiteSchemaVersion = "firedrill.suite/v1"

// SuiteEntry is one drill of a Suite: enough to list it and to find its
// JSON (File) and HTML report without opening the drill report itself.
type SuiteEntry struct {
	Scenario string    `json:"scenario"`
	DrillID  string    `json:"drillID"`
	File     string    `json:"file"`
	HTML     string    `json:"html"`
	Verdict  string    `json:"verdict"`
	Reason   string    `json:"reason,omitempty"`
	MTTR     *Duration `json:"mttr,omitempty"`
	Budget   Duration  `json:"budget,omitempty"`
}

// Suite is the one-file summary of a set of drills, for dashboards and for
// Ginkgo's ReportAfterSuite: it lists every drill and counts the verdicts,
// so a reader need not open each report to know whether the run was green.
type Suite struct {
	Schema   string       `json:"schema"`
	Started  time.Time    `json:"started,omitzero"`
	Finished time.Time    `json:"finished,omitzero"`
	Drills   []SuiteEntry `json:"drills"`
	Passed   int          `json:"passed"`
	Failed   int          `json:"failed"`
	Skipped  int          `json:"skipped"`
	// Scenarios is each scenario's distribution over its runs.
	Scenarios []Distribution `json:"scenarios"`
}

// NewSuite summarizes rs, sorted by scenario then drill ID so that the suite
// report is the same whatever order the drills ran in. Started and Finished
// span the earliest start and the latest finish. Nil reports are ignored.
func NewSuite(rs []*Report) *Suite {
	s := &Suite{Schema: SuiteSchemaVersion, Drills: []SuiteEntry{}}
	for _, r := range sortReports(rs) {
		s.add(r)
	}
	s.Scenarios = Distributions(rs)
	return s
}

// add appends r to the suite and widens its time span.
func (s *Suite) add(r *Report) {
	e := SuiteEntry{
		Scenario: r.Scenario, DrillID: r.DrillID,
		File: FileName(r.Scenario, r.DrillID), HTML: HTMLName(r),
		Verdict: verdictOf(r), Reason: r.Reason, Budget: r.Budget,
	}
	if r.MTTR != nil {
		total := r.MTTR.Total
		e.MTTR = &total
	}
	s.Drills = append(s.Drills, e)
	switch e.Verdict {
	case VerdictPass:
		s.Passed++
	case VerdictSkipped:
		s.Skipped++
	default:
		s.Failed++
	}
	if !r.Started.IsZero() && (s.Started.IsZero() || r.Started.Before(s.Started)) {
		s.Started = r.Started
	}
	if r.Finished.After(s.Finished) {
		s.Finished = r.Finished
	}
}

// HTMLName is the file name of a drill's HTML report:
// "<scenario>-<drillID>.html", the sibling of its JSON report FileName, so
// that the index, the Markdown summary and RenderDir agree on the link.
func HTMLName(r *Report) string {
	return strings.TrimSuffix(FileName(r.Scenario, r.DrillID), ".json") + ".html"
}

// verdictOf returns r's verdict, reading any verdict this package does not
// know as a failure, so that a malformed report never renders green.
func verdictOf(r *Report) string {
	switch r.Verdict {
	case VerdictPass, VerdictSkipped:
		return r.Verdict
	}
	return VerdictFail
}

// sortReports returns the non-nil reports of rs sorted by scenario then drill
// ID, leaving rs alone, so every rendered view lists drills in one stable
// order however they were loaded.
func sortReports(rs []*Report) []*Report {
	out := make([]*Report, 0, len(rs))
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Scenario != out[j].Scenario {
			return out[i].Scenario < out[j].Scenario
		}
		return out[i].DrillID < out[j].DrillID
	})
	return out
}

// checkReports refuses a nil report, which is a caller bug that a writer
// should name rather than render as an empty row.
func checkReports(rs []*Report) error {
	for i, r := range rs {
		if r == nil {
			return fmt.Errorf("report %d is nil", i)
		}
	}
	return nil
}

// fmtSeconds formats d as seconds with the given number of decimals.
func fmtSeconds(d Duration, decimals int) string {
	return strconv.FormatFloat(time.Duration(d).Seconds(), 'f', decimals, 64)
}

// budgetSeconds formats a budget as people write it: "45", "1.5".
func budgetSeconds(d Duration) string {
	return strconv.FormatFloat(time.Duration(d).Seconds(), 'f', -1, 64)
}

// budgetConsumed says how much of the error budget a drill spent, as
// "20 of 235 (8.5%)", or "" when no request was counted.
func budgetConsumed(e ErrorBudget) string {
	if e.Total == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d (%s%%)", e.Failed, e.Total, strconv.FormatFloat(e.Fraction*100, 'f', 1, 64))
}

// countVerdicts counts passed, failed and skipped drills of rs.
func countVerdicts(rs []*Report) (passed, failed, skipped int) {
	for _, r := range rs {
		switch verdictOf(r) {
		case VerdictPass:
			passed++
		case VerdictSkipped:
			skipped++
		default:
			failed++
		}
	}
	return passed, failed, skipped
}

// totalsLine is the one-line verdict count shared by the Markdown summary and
// the index: "3 drills, 2 passed, 1 failed", with skipped drills when any.
func totalsLine(rs []*Report) string {
	passed, failed, skipped := countVerdicts(rs)
	noun := "drills"
	if len(rs) == 1 {
		noun = "drill"
	}
	line := fmt.Sprintf("%d %s, %d passed, %d failed", len(rs), noun, passed, failed)
	if skipped > 0 {
		line += fmt.Sprintf(", %d skipped", skipped)
	}
	return line
}
