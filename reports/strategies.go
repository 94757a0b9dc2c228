package reports

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
)

// LabelComparison marks the drills that compare rollback strategies: one
// bad version, one traffic and one SLO, under each machinery.
const LabelComparison = "comparison"

// The comparison's files in a run directory.
const (
	StrategiesMarkdownFile = "strategies.md"
	StrategiesHTMLFile     = "strategies.html"
)

// strategyNotes say what each machinery's numbers mean where that differs
// from the others; the folklore name of each strategy comes first.
var strategyNotes = map[string]string{
	"canary-hook":   "canary; a pipeline hook scales it to zero",
	"rollout-undo":  "rolling update; rollout undo to the previous digest",
	"blue-green":    "blue-green; the Service selector flips back",
	"argo-rollouts": "canary (Argo Rollouts); its analysis aborts it",
	"feature-flag":  "feature flag; the kill switch turns it off",
	"flagger":       "blue-green with test traffic only (Flagger): users never reach the canary, so MTTR is the time to scale it down, unseen",
}

// StrategyRow is one machinery over its comparison runs: MTTR at p50, p90
// and max (each with the bound of its drill), the p50 of each phase, of the
// failed user requests and of the share of users the bad version answered,
// and the pods it ran (p50 of the peak, and of the peak over the pods at
// the canary's start).
type StrategyRow struct {
	Machinery     string
	Note          string
	Runs, Passed  int
	P50, P90, Max MTTRStat
	Phases        Phases
	Failed        int
	BadShare      float64
	PeakPods      int
	ExtraPods     int
	MTTRs         []Duration
	Scenarios     []string
}

// Strategies summarises the comparison drills in rs, one row per machinery,
// fastest p50 first.
func Strategies(rs []*Report) []StrategyRow {
	groups := map[string][]*Report{}
	for _, r := range rs {
		if slices.Contains(r.Labels, LabelComparison) && r.Verdict != VerdictSkipped {
			groups[r.Machinery] = append(groups[r.Machinery], r)
		}
	}
	var rows []StrategyRow
	for m, group := range groups {
		slices.SortStableFunc(group, byMTTR)
		rows = append(rows, strategyRow(m, group))
	}
	slices.SortFunc(rows, func(a, b StrategyRow) int {
		if c := int(a.P50.MTTR - b.P50.MTTR); c != 0 {
			return c
		}
		return strings.Compare(a.Machinery, b.Machinery)
	})
	return rows
}

func strategyRow(machinery string, group []*Report) StrategyRow {
	row := StrategyRow{Machinery: machinery, Note: strategyNotes[machinery], Runs: len(group),
		P50: statOf(atPercentile(group, 50)), P90: statOf(atPercentile(group, 90)), Max: statOf(group[len(group)-1])}
	var detect, decide, actuate, recover, failed, share, peak, extra []float64
	for _, r := range group {
		if verdictOf(r) == VerdictPass {
			row.Passed++
		}
		if !slices.Contains(row.Scenarios, r.Scenario) {
			row.Scenarios = append(row.Scenarios, r.Scenario)
		}
		failed = append(failed, float64(r.ErrorBudget.Failed))
		if r.MTTR != nil {
			row.MTTRs = append(row.MTTRs, r.MTTR.Total)
			p := r.MTTR.Phases
			detect, decide = append(detect, float64(p.Detect)), append(decide, float64(p.Decide))
			actuate, recover = append(actuate, float64(p.Actuate)), append(recover, float64(p.Recover))
		}
		if r.BadVersionShare != nil {
			share = append(share, r.BadVersionShare.Fraction)
		}
		if r.Pods != nil {
			peak, extra = append(peak, float64(r.Pods.Peak)), append(extra, float64(r.Pods.Peak-r.Pods.AtCanary))
		}
	}
	row.Phases = Phases{Detect: Duration(median(detect)), Decide: Duration(median(decide)), Actuate: Duration(median(actuate)), Recover: Duration(median(recover))}
	row.Failed, row.BadShare = int(median(failed)), median(share)
	row.PeakPods, row.ExtraPods = int(median(peak)), int(median(extra))
	return row
}

// median is the nearest-rank p50 of xs (0 when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	return s[(len(s)+1)/2-1]
}

// WriteStrategiesMarkdown writes the comparison table, sized for a CI job
// summary.
func WriteStrategiesMarkdown(w io.Writer, rows []StrategyRow) error {
	bw := bufio.NewWriter(w)
	writeStrategiesTable(bw, rows)
	return bw.Flush()
}

func writeStrategiesTable(w io.Writer, rows []StrategyRow) {
	fmt.Fprint(w, "\n### Rollback strategies compared\n\nThe same bad version (every request answers 500), the same traffic and the same SLO, under each machinery.\n\n")
	fmt.Fprint(w, "| Strategy | Runs passed | MTTR p50 | p90 | max | p50 phases (s): detect · decide · actuate · recover | Failed requests p50 | Bad version served p50 | Pods peak p50 (extra) |\n")
	fmt.Fprint(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| `%s`: %s | %d of %d | %s | %s | %s | %s | %d | %.1f%% | %d (+%d) |\n",
			r.Machinery, mdEscape(r.Note), r.Passed, r.Runs, r.P50, r.P90, r.Max, phasesText(r.Phases), r.Failed, 100*r.BadShare, r.PeakPods, r.ExtraPods)
	}
}

func phasesText(p Phases) string {
	return fmt.Sprintf("%s · %s · %s · %s", fmtSeconds(p.Detect, 1), fmtSeconds(p.Decide, 1), fmtSeconds(p.Actuate, 1), fmtSeconds(p.Recover, 1))
}

// WriteStrategiesHTML writes a self-contained page: the table, and a plot
// with one row per strategy, a dot per run at its MTTR and the p50 phases
// stacked beneath.
func WriteStrategiesHTML(w io.Writer, rows []StrategyRow) error {
	type view struct {
		StrategyRow
		Phases []string
		Share  string
	}
	var views []view
	for _, r := range rows {
		v := view{StrategyRow: r, Share: fmt.Sprintf("%.1f%%", 100*r.BadShare)}
		for _, d := range []Duration{r.Phases.Detect, r.Phases.Decide, r.Phases.Actuate, r.Phases.Recover} {
			v.Phases = append(v.Phases, fmtSeconds(d, 1))
		}
		views = append(views, v)
	}
	return strategiesTemplate.Execute(w, struct {
		Rows []view
		Plot template.HTML
	}{views, strategiesPlot(rows)})
}

// phaseColors are the stacked phases' colours, in timeline order.
var phaseColors = [4]string{"#0969da", "#8250df", "#bf3989", "#1a7f37"}

func strategiesPlot(rows []StrategyRow) template.HTML {
	const left, width, row = 360, 560, 44
	top := 1.0
	for _, r := range rows {
		for _, m := range r.MTTRs {
			top = max(top, time.Duration(m).Seconds()*1.1)
		}
	}
	x := func(s float64) float64 { return left + width*s/top }
	var b strings.Builder
	h := row*len(rows) + 50
	fmt.Fprintf(&b, `<svg class="strip" width="%d" height="%d" role="img" aria-label="MTTR per run and p50 phases, by strategy">`, left+width+20, h)
	for i, r := range rows {
		y := row*i + 16
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12" dominant-baseline="middle">%s</text>`, left-8, y, template.HTMLEscapeString(r.Machinery))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#d1d9e0"/>`, left, left+width, y, y)
		for _, m := range r.MTTRs {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="4" fill="#24292f" fill-opacity="0.6"><title>%s s</title></circle>`, x(time.Duration(m).Seconds()), y, fmtSeconds(m, 2))
		}
		at := 0.0
		for j, d := range []Duration{r.Phases.Detect, r.Phases.Decide, r.Phases.Actuate, r.Phases.Recover} {
			s := time.Duration(d).Seconds()
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="8" fill="%s"><title>%s p50 %s s</title></rect>`, x(at), y+8, x(at+s)-x(at), phaseColors[j], PhaseNames[j], fmtSeconds(d, 2))
			at += s
		}
	}
	axis := row * len(rows)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#59636e"/>`, left, left+width, axis, axis)
	for i := 0; i <= 4; i++ {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11">%.0f s</text>`, left+width*float64(i)/4, axis+16, top*float64(i)/4)
	}
	for j, name := range PhaseNames {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`, left+j*110, axis+28, phaseColors[j], left+j*110+14, axis+37, name)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var strategiesTemplate = template.Must(template.New("strategies").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>firedrill: rollback strategies compared</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #1f2328; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #59636e; font-size: 0.9em; }
</style>
</head>
<body>
<h1>Rollback strategies compared</h1>
<p>The same bad version (every request answers 500), the same traffic and the same SLO, under each machinery. Dots are runs' MTTR; the bar under them stacks the p50 of each phase.</p>
{{.Plot}}
<table>
<tr><th>Strategy</th><th>Runs passed</th><th>MTTR p50</th><th>p90</th><th>max</th><th>detect p50</th><th>decide p50</th><th>actuate p50</th><th>recover p50</th><th>Failed requests p50</th><th>Bad version served p50</th><th>Pods peak p50 (extra)</th></tr>
{{range .Rows}}<tr><td><code>{{.Machinery}}</code><br><span class="note">{{.Note}}</span></td><td class="num">{{.Passed}} of {{.Runs}}</td><td class="num">{{.P50}}</td><td class="num">{{.P90}}</td><td class="num">{{.Max}}</td>{{range .Phases}}<td class="num">{{.}}</td>{{end}}<td class="num">{{.Failed}}</td><td class="num">{{.Share}}</td><td class="num">{{.PeakPods}} (+{{.ExtraPods}})</td></tr>
{{end}}</table>
</body>
</html>
`))
