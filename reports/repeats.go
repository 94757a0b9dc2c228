package reports

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
)

// Stat picks which of a scenario's drills stands for it when it ran more
// than once (-firedrill.repeat): the latest, or the drill at the p50 or
// p90 MTTR. A drill that was not restored counts as slower than any other.
type Stat string

const (
	StatLatest Stat = "latest"
	StatP50    Stat = "p50"
	StatP90    Stat = "p90"
	StatMax    Stat = "max"
)

// ParseStat reads a --stat value.
func ParseStat(s string) (Stat, error) {
	switch st := Stat(s); st {
	case StatLatest, StatP50, StatP90, StatMax:
		return st, nil
	}
	return "", fmt.Errorf("stat %q: want latest, p50, p90 or max", s)
}

// percent is the stat's percentile, 0 for latest.
func (s Stat) percent() int {
	switch s {
	case StatP50:
		return 50
	case StatP90:
		return 90
	case StatMax:
		return 100
	}
	return 0
}

// byScenario groups the drills that ran (not skipped) by scenario, each
// group sorted by MTTR, not-restored drills last, and returns the scenarios
// that only had skipped drills.
func byScenario(rs []*Report) (map[string][]*Report, []string) {
	runs := map[string][]*Report{}
	var skipped []string
	for _, r := range rs {
		switch {
		case r == nil:
		case r.Verdict == VerdictSkipped:
			if !slices.Contains(skipped, r.Scenario) {
				skipped = append(skipped, r.Scenario)
			}
		default:
			runs[r.Scenario] = append(runs[r.Scenario], r)
		}
	}
	for _, group := range runs {
		slices.SortStableFunc(group, byMTTR)
	}
	return runs, skipped
}

// byMTTR orders drills by MTTR, a drill with none after every other.
func byMTTR(a, b *Report) int {
	switch {
	case a.MTTR == nil && b.MTTR == nil:
		return 0
	case a.MTTR == nil:
		return 1
	case b.MTTR == nil:
		return -1
	}
	return int(a.MTTR.Total - b.MTTR.Total)
}

// atPercentile is the nearest-rank drill of an MTTR-sorted group.
func atPercentile(group []*Report, pct int) *Report {
	i := (len(group)*pct + 99) / 100
	return group[max(i, 1)-1]
}

// pick returns, for each scenario, the drill that stands for it under stat,
// and the scenarios that only had skipped drills.
func pick(rs []*Report, stat Stat) (map[string]*Report, []string) {
	if stat == StatLatest || stat == "" {
		return latestDrills(rs)
	}
	runs, skipped := byScenario(rs)
	out := map[string]*Report{}
	for s, group := range runs {
		out[s] = atPercentile(group, stat.percent())
	}
	return out, skipped
}

// MTTRStat is one figure of a distribution: the MTTR of the drill at that
// rank, with that drill's bound. Restored is false when that drill never
// restored service.
type MTTRStat struct {
	Restored bool     `json:"restored"`
	MTTR     Duration `json:"mttr,omitempty"`
	Minus    Duration `json:"boundMinus,omitempty"`
	Plus     Duration `json:"boundPlus,omitempty"`
	DrillID  string   `json:"drillID"`
}

func statOf(r *Report) MTTRStat {
	s := MTTRStat{DrillID: r.DrillID}
	if r.MTTR != nil {
		s.Restored, s.MTTR, s.Minus, s.Plus = true, r.MTTR.Total, r.MTTR.Minus, r.MTTR.Plus
	}
	return s
}

func (s MTTRStat) String() string {
	if !s.Restored {
		return "not restored"
	}
	return fmt.Sprintf("%s s %s", fmtSeconds(s.MTTR, 2), MTTR{Minus: s.Minus, Plus: s.Plus}.BoundText())
}

// Distribution is one scenario over its runs: how many passed and failed,
// its MTTR at p50, p90 and max (each with the bound of the drill it came
// from), and the flake rate: the share of its runs that failed. 0 is a
// stable pass, 1 a stable failure, anything between a flaky drill.
type Distribution struct {
	Scenario  string     `json:"scenario"`
	Runs      int        `json:"runs"`
	Passed    int        `json:"passed"`
	Failed    int        `json:"failed"`
	P50       MTTRStat   `json:"p50"`
	P90       MTTRStat   `json:"p90"`
	Max       MTTRStat   `json:"max"`
	FlakeRate float64    `json:"flakeRate"`
	MTTRs     []Duration `json:"mttrs"`
}

// Distributions summarizes each scenario's runs, sorted by scenario.
func Distributions(rs []*Report) []Distribution {
	runs, _ := byScenario(rs)
	var out []Distribution
	for s, group := range runs {
		d := Distribution{Scenario: s, Runs: len(group), MTTRs: []Duration{},
			P50: statOf(atPercentile(group, 50)), P90: statOf(atPercentile(group, 90)), Max: statOf(group[len(group)-1])}
		for _, r := range group {
			if verdictOf(r) == VerdictPass {
				d.Passed++
			} else {
				d.Failed++
			}
			if r.MTTR != nil {
				d.MTTRs = append(d.MTTRs, r.MTTR.Total)
			}
		}
		d.FlakeRate = float64(d.Failed) / float64(d.Runs)
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Distribution) int { return strings.Compare(a.Scenario, b.Scenario) })
	return out
}

// repeated reports whether any scenario ran more than once.
func repeated(ds []Distribution) bool {
	return slices.ContainsFunc(ds, func(d Distribution) bool { return d.Runs > 1 })
}

// writeMarkdownDistributions writes the per-scenario distribution table
// when some scenario ran more than once.
func writeMarkdownDistributions(w io.Writer, rs []*Report) {
	ds := Distributions(rs)
	if !repeated(ds) {
		return
	}
	fmt.Fprint(w, "\n### MTTR across repeats\n\n| Scenario | Passed | p50 MTTR | p90 MTTR | max MTTR | Flake rate |\n|---|---:|---:|---:|---:|---:|\n")
	for _, d := range ds {
		fmt.Fprintf(w, "| %s | %d of %d | %s | %s | %s | %.0f%% |\n", mdEscape(d.Scenario), d.Passed, d.Runs,
			d.P50, d.P90, d.Max, 100*d.FlakeRate)
	}
}

// stripPlot is an inline SVG with one row per scenario and one dot per run
// at its MTTR, with the p50 and p90 marked: the distribution at a glance.
func stripPlot(ds []Distribution) template.HTML {
	if !repeated(ds) {
		return ""
	}
	const left, width, row = 220, 520, 28
	top := 0.0
	for _, d := range ds {
		for _, m := range d.MTTRs {
			top = max(top, time.Duration(m).Seconds())
		}
	}
	top = max(top*1.1, 1)
	x := func(d Duration) float64 { return left + width*time.Duration(d).Seconds()/top }
	var b strings.Builder
	h := row*len(ds) + 30
	fmt.Fprintf(&b, `<svg class="strip" width="%d" height="%d" role="img" aria-label="MTTR per run, by scenario">`, left+width+20, h)
	for i, d := range ds {
		y := row*i + row/2
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12" dominant-baseline="middle">%s</text>`, left-8, y, template.HTMLEscapeString(d.Scenario))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#d1d9e0"/>`, left, left+width, y, y)
		for _, m := range d.MTTRs {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="4" fill="#0969da" fill-opacity="0.6"><title>%s s</title></circle>`, x(m), y, fmtSeconds(m, 3))
		}
		for _, p := range []MTTRStat{d.P50, d.P90} {
			if p.Restored {
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#a40e26" stroke-width="2"/>`, x(p.MTTR), x(p.MTTR), y-9, y+9)
			}
		}
	}
	axis := row * len(ds)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#59636e"/>`, left, left+width, axis, axis)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11">%.1f s</text>`, left+width*float64(i)/4, axis+16, v)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
