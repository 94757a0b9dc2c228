package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BaselineSchemaVersion tags every baseline file, for the same reason
// SchemaVersion tags reports: a reader refuses a layout it does not know.
const BaselineSchemaVersion = "firedrill.baseline/v1"

// BaselineEntry is the MTTR one scenario is held to, with the drill it was
// measured in, so that a regression can be traced back to a report.
type BaselineEntry struct {
	MTTR     Duration  `json:"mttr"`
	DrillID  string    `json:"drillID"`
	Recorded time.Time `json:"recorded"`
}

// Baseline is the accepted MTTR of each scenario, keyed by scenario name.
// It lives in a file kept next to the pipeline so that a rollback that got
// slower fails the build instead of drifting unnoticed.
type Baseline struct {
	Schema    string                   `json:"schema"`
	Scenarios map[string]BaselineEntry `json:"scenarios"`
}

// ReadBaseline reads a baseline written by WriteBaseline. A missing file
// keeps fs.ErrNotExist in its chain so that callers can tell "no baseline
// yet" from a broken one.
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	b, err := ParseBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", path, err)
	}
	return b, nil
}

// ParseBaseline decodes a baseline, refusing another schema.
func ParseBaseline(data []byte) (*Baseline, error) {
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, err
	}
	if b.Schema != BaselineSchemaVersion {
		return nil, fmt.Errorf("schema %q is not supported, want %q", b.Schema, BaselineSchemaVersion)
	}
	if b.Scenarios == nil {
		b.Scenarios = map[string]BaselineEntry{}
	}
	return &b, nil
}

// WriteBaseline writes b to path as indented JSON, creating its directory,
// through a temporary file renamed into place so that an interrupted update
// never leaves a truncated baseline to fail the next build. An empty Schema
// is written as BaselineSchemaVersion; any other schema is refused.
func WriteBaseline(path string, b *Baseline) error {
	if b == nil {
		return errors.New("write baseline: nil baseline")
	}
	out := *b
	if out.Schema == "" {
		out.Schema = BaselineSchemaVersion
	}
	if out.Schema != BaselineSchemaVersion {
		return fmt.Errorf("write baseline: schema %q, this writer only writes %q", out.Schema, BaselineSchemaVersion)
	}
	if out.Scenarios == nil {
		out.Scenarios = map[string]BaselineEntry{}
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// NewBaseline records the MTTR of every passing drill with an MTTR. A
// failing drill is never a baseline, since holding later runs to it would
// accept a broken rollback. For a scenario with several such drills the one
// that finished last wins, as the most recent scenarioMTTR of the machinery.
func NewBaseline(rs []*Report) *Baseline {
	b := &Baseline{Schema: BaselineSchemaVersion, Scenarios: map[string]BaselineEntry{}}
	finished := map[string]time.Time{}
	for _, r := range rs {
		if r == nil || r.Verdict != VerdictPass || r.MTTR == nil {
			continue
		}
		if last, ok := finished[r.Scenario]; ok && !r.Finished.After(last) {
			continue
		}
		finished[r.Scenario] = r.Finished
		b.Scenarios[r.Scenario] = BaselineEntry{MTTR: r.MTTR.Total, DrillID: r.DrillID, Recorded: r.Finished}
	}
	return b
}

// NewBaselineBy is NewBaseline with repeats: each scenario's baseline is the
// MTTR of its drill at stat (p50, p90, max), when that drill passed.
func NewBaselineBy(rs []*Report, stat Stat) *Baseline {
	if stat == StatLatest || stat == "" {
		return NewBaseline(rs)
	}
	b := &Baseline{Schema: BaselineSchemaVersion, Scenarios: map[string]BaselineEntry{}}
	picked, _ := pick(rs, stat)
	for s, r := range picked {
		if r.Verdict == VerdictPass && r.MTTR != nil {
			b.Scenarios[s] = BaselineEntry{MTTR: r.MTTR.Total, DrillID: r.DrillID, Recorded: r.Finished}
		}
	}
	return b
}

// Regression is a scenario whose MTTR exceeded its Limit, the baseline
// widened by the tolerance and slack.
type Regression struct {
	Scenario string
	Baseline Duration
	Current  Duration
	Limit    Duration
}

// Comparison is the outcome of Compare, one scenario name per entry, each
// list sorted. Only Regressions and NotRestored fail the gate: a scenario
// that is New, Missing (filtered out of this run, say) or Skipped (its
// preconditions were absent) says nothing about rollback speed.
type Comparison struct {
	Regressions []Regression
	Improved    []string
	Unchanged   []string
	// New scenarios were measured in this run but are not in the baseline.
	New []string
	// Missing scenarios are in the baseline but not in this run.
	Missing []string
	// NotRestored scenarios' drills have no MTTR: service never came back,
	// which is worse than any regression.
	NotRestored []string
	// Skipped scenarios only had skipped drills in this run.
	Skipped []string

	// measured keeps the numbers behind the name-only lists, for String.
	measured map[string]scenarioMTTR
}

type scenarioMTTR struct {
	baseline, current, limit Duration
	inBaseline               bool
}

// Compare holds each scenario's latest drill in rs to its baseline entry. A
// scenario regresses when its MTTR exceeds baseline*(1+tolerance)+slack: the
// tolerance (0.2 is 20%) absorbs run-to-run variance, and the slack (500ms,
// say) absorbs the observer's resolution, which would otherwise dominate a
// sub-second MTTR. It has improved when its MTTR is below the mirror bound,
// baseline*(1-tolerance)-slack, and is unchanged in between. A nil b is an
// empty baseline.
func Compare(b *Baseline, rs []*Report, tolerance float64, slack time.Duration) Comparison {
	return CompareBy(b, rs, StatLatest, tolerance, slack)
}

// CompareBy is Compare with the drill that stands for each scenario chosen
// by stat: with repeats, the gate can hold a scenario's p50 or p90 MTTR to
// the baseline rather than its latest run.
func CompareBy(b *Baseline, rs []*Report, stat Stat, tolerance float64, slack time.Duration) Comparison {
	c := Comparison{measured: map[string]scenarioMTTR{}}
	var base map[string]BaselineEntry
	if b != nil {
		base = b.Scenarios
	}
	latest, skipped := pick(rs, stat)
	for _, s := range skipped {
		if _, ok := latest[s]; !ok {
			c.Skipped = append(c.Skipped, s)
		}
	}
	for s, r := range latest {
		entry, inBaseline := base[s]
		if r.MTTR == nil {
			c.NotRestored = append(c.NotRestored, s)
			c.measured[s] = scenarioMTTR{baseline: entry.MTTR, inBaseline: inBaseline}
			continue
		}
		cur := r.MTTR.Total
		if !inBaseline {
			c.New = append(c.New, s)
			c.measured[s] = scenarioMTTR{current: cur}
			continue
		}
		baseline := time.Duration(entry.MTTR)
		limit := time.Duration(float64(baseline)*(1+tolerance)) + slack
		lower := time.Duration(float64(baseline)*(1-tolerance)) - slack
		m := scenarioMTTR{baseline: entry.MTTR, current: cur, limit: Duration(limit), inBaseline: true}
		c.measured[s] = m
		switch {
		case time.Duration(cur) > limit:
			c.Regressions = append(c.Regressions, Regression{Scenario: s, Baseline: m.baseline, Current: cur, Limit: m.limit})
		case time.Duration(cur) < lower:
			c.Improved = append(c.Improved, s)
		default:
			c.Unchanged = append(c.Unchanged, s)
		}
	}
	for s := range base {
		if _, ok := latest[s]; !ok && !slices.Contains(c.Skipped, s) {
			c.Missing = append(c.Missing, s)
		}
	}
	slices.SortFunc(c.Regressions, func(a, b Regression) int { return strings.Compare(a.Scenario, b.Scenario) })
	for _, l := range [][]string{c.Improved, c.Unchanged, c.New, c.Missing, c.NotRestored, c.Skipped} {
		slices.Sort(l)
	}
	return c
}

// latestDrills returns the drill that finished last for each scenario,
// ignoring skipped drills, and the scenarios that had a skipped drill. The
// latest drill is the machinery's current state; earlier drills of the same
// scenario in the directory are history.
func latestDrills(rs []*Report) (map[string]*Report, []string) {
	latest := map[string]*Report{}
	var skipped []string
	for _, r := range rs {
		if r == nil {
			continue
		}
		if r.Verdict == VerdictSkipped {
			if !slices.Contains(skipped, r.Scenario) {
				skipped = append(skipped, r.Scenario)
			}
			continue
		}
		if prev, ok := latest[r.Scenario]; !ok || r.Finished.After(prev.Finished) {
			latest[r.Scenario] = r
		}
	}
	return latest, skipped
}

// Failed reports whether the gate fails: some scenario regressed or was not
// restored at all.
func (c Comparison) Failed() bool { return len(c.Regressions) > 0 || len(c.NotRestored) > 0 }

// String is the comparison for people: one line per scenario, failures
// first so that they are what a CI log shows on top.
func (c Comparison) String() string {
	var sb strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&sb, format+"\n", args...)
	}
	for _, r := range c.Regressions {
		line("REGRESSION %s: MTTR %s vs baseline %s (limit %s)", r.Scenario, mttrString(r.Current), mttrString(r.Baseline), mttrString(r.Limit))
	}
	for _, s := range c.NotRestored {
		if m := c.measured[s]; m.inBaseline {
			line("NOT RESTORED %s: no MTTR, service was not restored (baseline %s)", s, mttrString(m.baseline))
		} else {
			line("NOT RESTORED %s: no MTTR, service was not restored", s)
		}
	}
	for _, s := range c.Improved {
		m := c.measured[s]
		line("improved %s: MTTR %s vs baseline %s", s, mttrString(m.current), mttrString(m.baseline))
	}
	for _, s := range c.Unchanged {
		m := c.measured[s]
		line("unchanged %s: MTTR %s vs baseline %s (limit %s)", s, mttrString(m.current), mttrString(m.baseline), mttrString(m.limit))
	}
	for _, s := range c.New {
		line("new %s: MTTR %s, not in the baseline", s, mttrString(c.measured[s].current))
	}
	for _, s := range c.Missing {
		line("missing %s: in the baseline, not in this run", s)
	}
	for _, s := range c.Skipped {
		line("skipped %s: drill skipped, not compared", s)
	}
	if sb.Len() == 0 {
		return "no scenarios to compare\n"
	}
	return sb.String()
}

// mttrString formats d to the millisecond, the precision reports are written with.
func mttrString(d Duration) string { return time.Duration(d).Round(time.Millisecond).String() }
