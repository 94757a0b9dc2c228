package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// verdictBadges are the Verdict cells of the Markdown table: an icon first so
// that the column can be scanned at a glance in a CI job summary.
var verdictBadges = map[string]string{
	VerdictPass:    "✅ pass",
	VerdictFail:    "❌ fail",
	VerdictSkipped: "⏭ skipped",
}

// WriteMarkdown writes a GitHub-flavoured summary of rs, sized for a CI job
// summary: a heading, the verdict totals, one table row per drill (sorted by
// scenario then drill ID) linking its HTMLName, and under the table the
// reason of every drill that did not pass, since the reason is what a reader
// of a red run wants first.
func WriteMarkdown(w io.Writer, rs []*Report) error {
	if err := checkReports(rs); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	rs = sortReports(rs)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "## firedrill drill reports\n\n%s.\n", totalsLine(rs))
	if len(rs) > 0 {
		writeMarkdownTable(bw, rs)
		writeMarkdownReasons(bw, rs)
		writeMarkdownDistributions(bw, rs)
		if rows := Strategies(rs); len(rows) > 0 {
			writeStrategiesTable(bw, rows)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// writeMarkdownTable writes the one table of the summary.
func writeMarkdownTable(w io.Writer, rs []*Report) {
	fmt.Fprint(w, "\n| Drill | Verdict | MTTR vs budget | Phase split (s): detect · decide · actuate · recover | Budget consumed | Detected by |\n")
	fmt.Fprint(w, "|---|---|---:|---:|---:|---|\n")
	for _, r := range rs {
		cells := []string{
			fmt.Sprintf("[%s](%s)", mdEscape(r.Scenario+" "+r.DrillID), HTMLName(r)),
			verdictBadges[verdictOf(r)],
			mdEscape(mttrVsBudget(r)),
			phaseSplit(r),
			orDash(budgetConsumed(r.ErrorBudget)),
			mdEscape(orDash(r.DetectedBy)),
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// writeMarkdownReasons lists, under the table, why each drill failed or was
// skipped, and the phase a failed drill stopped at.
func writeMarkdownReasons(w io.Writer, rs []*Report) {
	first := true
	for _, r := range rs {
		verdict := verdictOf(r)
		if verdict == VerdictPass {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		where := ""
		if p, ok := failedPhase(r); ok {
			where = " at " + p
		}
		fmt.Fprintf(w, "- %s **%s**%s: %s\n", verdictBadges[verdict], mdEscape(r.Scenario+" "+r.DrillID), where, mdEscape(orDash(r.Reason)))
	}
}

// failedPhase names the phase at which r failed, if any.
func failedPhase(r *Report) (string, bool) {
	for _, p := range PhaseResults(r) {
		if p.Status == PhaseFailed {
			return p.Name, true
		}
	}
	return "", false
}

// mttrVsBudget reads "4.70 s (−0.020/+0.020 s) / 45 s"; "—" stands for an
// MTTR that was never measured (service not restored) or a budget that was
// not set.
func mttrVsBudget(r *Report) string {
	mttr, budget := "—", "—"
	if r.MTTR != nil {
		mttr = fmtSeconds(r.MTTR.Total, 2) + " s " + r.MTTR.BoundText()
	}
	if r.Budget > 0 {
		budget = budgetSeconds(r.Budget) + " s"
	}
	return mttr + " / " + budget
}

// phaseSplit reads "0.52 · 1.01 · 3.17 · 0.00", in seconds.
func phaseSplit(r *Report) string {
	if r.MTTR == nil {
		return "—"
	}
	p := r.MTTR.Phases
	detect := fmtSeconds(p.Detect, 2)
	if r.MTTR.NotSeenByUsers {
		detect = NotSeenByUsers
	}
	return strings.Join([]string{detect, fmtSeconds(p.Decide, 2), fmtSeconds(p.Actuate, 2), fmtSeconds(p.Recover, 2)}, " · ")
}

// orDash stands "—" in for an empty value, so no cell is blank.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// mdEscaper backslash-escapes the characters that would end a table cell,
// start emphasis, a link or code, or be taken for HTML, and folds newlines,
// so that a reason or scenario name is shown verbatim.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`",
	"[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdEscape makes s safe as Markdown inline text and as a table cell.
func mdEscape(s string) string { return mdEscaper.Replace(s) }
