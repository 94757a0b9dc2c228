package reports

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// baselineDrill is a synthetic report of scenario that finished at t0+finished, with
// an MTTR of mttr, or none (never restored) when mttr is negative.
func baselineDrill(scenario, id string, finished, mttr time.Duration, verdict string) *Report {
	r := &Report{Schema: SchemaVersion, Scenario: scenario, DrillID: id, Finished: t0.Add(finished), Verdict: verdict}
	if mttr >= 0 {
		r.MTTR = &MTTR{Total: Duration(mttr)}
	}
	return r
}

func TestNewBaseline(t *testing.T) {
	rs := []*Report{
		baselineDrill("pod-kill", "late", 20*time.Second, 4*time.Second, VerdictPass),
		baselineDrill("pod-kill", "early", 10*time.Second, 3*time.Second, VerdictPass),
		baselineDrill("bad-image", "failed", 30*time.Second, 9*time.Second, VerdictFail),
		baselineDrill("crashloop", "unrestored", 30*time.Second, -1, VerdictPass),
		baselineDrill("partition", "skipped", 30*time.Second, -1, VerdictSkipped),
		nil,
	}
	got := NewBaseline(rs)
	want := &Baseline{Schema: BaselineSchemaVersion, Scenarios: map[string]BaselineEntry{
		"pod-kill": {MTTR: Duration(4 * time.Second), DrillID: "late", Recorded: t0.Add(20 * time.Second)},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewBaseline = %+v, want %+v", got, want)
	}
}

func TestBaselineWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ci", "baseline.json")
	want := NewBaseline([]*Report{baselineDrill("pod-kill", "d1", time.Minute, 4213*time.Millisecond, VerdictPass)})
	if err := WriteBaseline(path, want); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"mttr": 4.213`) || !strings.Contains(string(raw), `"schema": "firedrill.baseline/v1"`) {
		t.Errorf("baseline file:\n%s", raw)
	}
	got, err := ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the baseline (temp file left behind?)", len(entries))
	}
}

func TestWriteBaselineRefuses(t *testing.T) {
	dir := t.TempDir()
	if err := WriteBaseline(filepath.Join(dir, "b.json"), nil); err == nil {
		t.Error("WriteBaseline(nil): want an error")
	}
	err := WriteBaseline(filepath.Join(dir, "b.json"), &Baseline{Schema: "firedrill.baseline/v2"})
	if err == nil || !strings.Contains(err.Error(), "firedrill.baseline/v2") {
		t.Errorf("WriteBaseline v2: err = %v, want one naming the schema", err)
	}
}

func TestReadBaselineErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadBaseline(filepath.Join(dir, "absent.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist in the chain", err)
	}
	for name, body := range map[string]string{
		"bad.json":    `{"schema":`,
		"v2.json":     `{"schema":"firedrill.baseline/v2","scenarios":{}}`,
		"report.json": `{"schema":"firedrill.report/v1"}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadBaseline(path)
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want a one-line error naming the file", name, err)
		}
	}
	if path := filepath.Join(dir, "empty.json"); os.WriteFile(path, []byte(`{"schema":"firedrill.baseline/v1"}`), 0o644) == nil {
		b, err := ReadBaseline(path)
		if err != nil || b.Scenarios == nil {
			t.Errorf("baseline without scenarios = %+v, %v; want an empty map", b, err)
		}
	}
}

func TestCompare(t *testing.T) {
	b := &Baseline{Schema: BaselineSchemaVersion, Scenarios: map[string]BaselineEntry{
		"slower":      {MTTR: Duration(4700 * time.Millisecond)},
		"within":      {MTTR: Duration(4700 * time.Millisecond)},
		"faster":      {MTTR: Duration(10 * time.Second)},
		"tiny":        {MTTR: Duration(100 * time.Millisecond)},
		"dropped":     {MTTR: Duration(time.Second)},
		"broken":      {MTTR: Duration(3 * time.Second)},
		"unavailable": {MTTR: Duration(time.Second)},
	}}
	rs := []*Report{
		baselineDrill("slower", "old", 10*time.Second, 2*time.Second, VerdictPass),
		baselineDrill("slower", "new", 20*time.Second, 9100*time.Millisecond, VerdictFail),
		baselineDrill("within", "w", 0, 6100*time.Millisecond, VerdictPass),
		baselineDrill("faster", "f", 0, 5*time.Second, VerdictPass),
		baselineDrill("tiny", "t", 0, 550*time.Millisecond, VerdictPass),
		baselineDrill("broken", "b", 0, -1, VerdictFail),
		baselineDrill("unavailable", "u", 0, -1, VerdictSkipped),
		baselineDrill("added", "a", 0, 2*time.Second, VerdictPass),
		baselineDrill("added-broken", "ab", 0, -1, VerdictFail),
	}
	c := Compare(b, rs, 0.2, 500*time.Millisecond)
	check := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	check("Regressions", c.Regressions, []Regression{{
		Scenario: "slower", Baseline: Duration(4700 * time.Millisecond), Current: Duration(9100 * time.Millisecond), Limit: Duration(6140 * time.Millisecond),
	}})
	check("Improved", c.Improved, []string{"faster"})
	check("Unchanged", c.Unchanged, []string{"tiny", "within"})
	check("New", c.New, []string{"added"})
	check("Missing", c.Missing, []string{"dropped"})
	check("NotRestored", c.NotRestored, []string{"added-broken", "broken"})
	check("Skipped", c.Skipped, []string{"unavailable"})
	if !c.Failed() {
		t.Error("Failed() = false with a regression and unrestored drills")
	}

	lines := strings.Split(strings.TrimSuffix(c.String(), "\n"), "\n")
	wantLines := []string{
		"REGRESSION slower: MTTR 9.1s vs baseline 4.7s (limit 6.14s)",
		"NOT RESTORED added-broken: no MTTR, service was not restored",
		"NOT RESTORED broken: no MTTR, service was not restored (baseline 3s)",
		"improved faster: MTTR 5s vs baseline 10s",
		"unchanged tiny: MTTR 550ms vs baseline 100ms (limit 620ms)",
		"unchanged within: MTTR 6.1s vs baseline 4.7s (limit 6.14s)",
		"new added: MTTR 2s, not in the baseline",
		"missing dropped: in the baseline, not in this run",
		"skipped unavailable: drill skipped, not compared",
	}
	check("String lines", lines, wantLines)
}

func TestComparePasses(t *testing.T) {
	rs := []*Report{
		baselineDrill("pod-kill", "a", 0, 4*time.Second, VerdictPass),
		baselineDrill("crashloop", "b", 0, 3*time.Second, VerdictPass),
	}
	c := Compare(NewBaseline(rs), rs, 0.2, 500*time.Millisecond)
	if c.Failed() || len(c.Unchanged) != 2 {
		t.Errorf("comparing a run with its own baseline: %+v", c)
	}
	if c := Compare(nil, rs, 0.2, 0); c.Failed() || len(c.New) != 2 {
		t.Errorf("comparing with a nil baseline: %+v", c)
	}
	if got := (Comparison{}).String(); got != "no scenarios to compare\n" {
		t.Errorf("empty comparison String() = %q", got)
	}
}

// TestCompareFixtures compares the real reports against a baseline taken
// from them, then against one the current run is slower than.
func TestCompareFixtures(t *testing.T) {
	var rs []*Report
	for _, name := range schemaFixtures {
		r, err := ReadJSON(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	b := NewBaseline(rs)
	if len(b.Scenarios) != 2 {
		t.Fatalf("baseline from schemaFixtures = %+v, want both scenarios", b)
	}
	if c := Compare(b, rs, 0.2, 500*time.Millisecond); c.Failed() {
		t.Errorf("run against its own baseline failed:\n%s", c)
	}
	b.Scenarios["canary-bad-version"] = BaselineEntry{MTTR: Duration(2 * time.Second)}
	c := Compare(b, rs, 0.2, 500*time.Millisecond)
	want := "REGRESSION canary-bad-version: MTTR 4.697s vs baseline 2s (limit 2.9s)\n"
	if !c.Failed() || !strings.HasPrefix(c.String(), want) {
		t.Errorf("against a faster baseline: Failed() = %v, String():\n%s\nwant it to start with %q", c.Failed(), c, want)
	}
}
