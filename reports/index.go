package reports

import (
	"fmt"
	"html/template"
	"io"
)

// indexRow is one drill as the index lists it, preformatted so that the
// template holds layout only.
type indexRow struct {
	Scenario, DrillID, Verdict, Badge string
	Reason                            string
	Labels                            []string
	MTTR, Consumed, DetectedBy        string
	Started                           string
	HTML, JSON                        string
	// Audit links the drill's audit log, with its count of writes.
	Audit, Writes string
}

// indexPage is what indexTemplate renders.
type indexPage struct {
	Totals        string
	Rows          []indexRow
	Distributions []distributionRow
	Strip         template.HTML
}

// distributionRow is one scenario across its repeats.
type distributionRow struct {
	Scenario, Passed, P50, P90, Max, Flake string
}

// indexTemplate is a self-contained page: inline CSS, no scripts and no
// external assets, so that it opens from a CI artifact or a file:// URL on
// an air-gapped machine.
var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>firedrill drill reports</title>
<style>
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.totals { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d1d9e0; vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: #59636e; }
.label { display: inline-block; margin: .1rem .2rem 0 0; padding: 0 .4rem; border-radius: 1rem; background: #eef1f4; color: #59636e; font-size: 12px; }
.verdict { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600; white-space: nowrap; }
.pass { background: #dafbe1; color: #116329; }
.fail { background: #ffebe9; color: #a40e26; }
.skipped { background: #eef1f4; color: #59636e; }
a { color: #0969da; }
</style>
</head>
<body>
<h1>firedrill drill reports</h1>
<p class="totals">{{.Totals}}</p>
{{- if .Rows}}
<table>
<thead><tr><th>Scenario</th><th>Verdict</th><th>MTTR / budget</th><th>Budget consumed</th><th>Detected by</th><th>Started</th><th>Writes</th><th>Reports</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr>
<td><a href="{{.HTML}}">{{.Scenario}}</a> <span class="id">{{.DrillID}}</span><br>{{range .Labels}}<span class="label">{{.}}</span>{{end}}</td>
<td><span class="verdict {{.Verdict}}" title="{{.Reason}}">{{.Badge}}</span></td>
<td class="num">{{.MTTR}}</td>
<td class="num">{{.Consumed}}</td>
<td>{{.DetectedBy}}</td>
<td class="num">{{.Started}}</td>
<td class="num">{{if .Audit}}<a href="{{.Audit}}">{{.Writes}}</a>{{else}}—{{end}}</td>
<td><a href="{{.HTML}}">HTML</a> · <a href="{{.JSON}}">JSON</a></td>
</tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .Distributions}}
<h2>MTTR across repeats</h2>
<p class="totals">One dot per run; red ticks mark p50 and p90.</p>
{{.Strip}}
<table>
<thead><tr><th>Scenario</th><th>Passed</th><th>p50 MTTR</th><th>p90 MTTR</th><th>max MTTR</th><th>Flake rate</th></tr></thead>
<tbody>
{{- range .Distributions}}
<tr><td>{{.Scenario}}</td><td class="num">{{.Passed}}</td><td class="num">{{.P50}}</td><td class="num">{{.P90}}</td><td class="num">{{.Max}}</td><td class="num">{{.Flake}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
</body>
</html>
`))

// WriteIndex writes index.html for a directory of drill reports: one row per
// drill, sorted by scenario then drill ID, with its verdict, MTTR against
// budget and labels, linking its HTMLName and its JSON FileName, so that a
// reader browsing CI artifacts starts from one page.
func WriteIndex(w io.Writer, rs []*Report) error {
	if err := checkReports(rs); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	rs = sortReports(rs)
	page := indexPage{Totals: totalsLine(rs)}
	for _, r := range rs {
		page.Rows = append(page.Rows, indexRowOf(r))
	}
	if ds := Distributions(rs); repeated(ds) {
		page.Strip = stripPlot(ds)
		for _, d := range ds {
			page.Distributions = append(page.Distributions, distributionRow{
				Scenario: d.Scenario, Passed: fmt.Sprintf("%d of %d", d.Passed, d.Runs),
				P50: d.P50.String(), P90: d.P90.String(), Max: d.Max.String(), Flake: fmt.Sprintf("%.0f%%", 100*d.FlakeRate),
			})
		}
	}
	if err := indexTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// indexRowOf formats r for the index.
func indexRowOf(r *Report) indexRow {
	row := indexRow{
		Scenario: r.Scenario, DrillID: r.DrillID, Labels: r.Labels,
		Verdict: verdictOf(r), Badge: verdictBadges[verdictOf(r)], Reason: r.Reason,
		MTTR: mttrVsBudget(r), Consumed: orDash(budgetConsumed(r.ErrorBudget)),
		DetectedBy: orDash(r.DetectedBy), Started: "—",
		HTML: HTMLName(r), JSON: FileName(r.Scenario, r.DrillID),
	}
	if !r.Started.IsZero() {
		row.Started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if r.Audit != nil {
		row.Audit, row.Writes = r.Audit.Path, fmt.Sprint(r.Audit.Writes)
	}
	return row
}
