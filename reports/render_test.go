package reports

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// rendererFixtures are the drill reports the renderer tests share: two real
// passing drills produced by the harness and one failed over budget.
var rendererFixtures = []string{"canary-bad-version.json", "canary-crashloop.json", "failed-budget.json"}

// fixtureReport reads testdata/name afresh, so a test may change it freely.
func fixtureReport(t *testing.T, name string) *Report {
	t.Helper()
	r, err := ReadJSON(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixtureReports reads every renderer fixture, in reverse order so that the
// writers' own sorting is exercised.
func fixtureReports(t *testing.T) []*Report {
	t.Helper()
	var rs []*Report
	for _, name := range slices.Backward(rendererFixtures) {
		rs = append(rs, fixtureReport(t, name))
	}
	return rs
}

// copyFixtures copies the renderer fixtures into a new temporary directory.
func copyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range rendererFixtures {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(dir, name), string(data))
	}
	return dir
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHTMLName(t *testing.T) {
	for _, tc := range []struct{ scenario, id, want string }{
		{"canary-bad-version", "13fda4", "canary-bad-version-13fda4.html"},
		{"pod-kill/argo abort", "d7f3", "pod-kill-argo-abort-d7f3.html"},
	} {
		if got := HTMLName(&Report{Scenario: tc.scenario, DrillID: tc.id}); got != tc.want {
			t.Errorf("HTMLName(%q, %q) = %q, want %q", tc.scenario, tc.id, got, tc.want)
		}
	}
}

// otherJSON are JSON documents that share a report directory with drill
// reports and that LoadDir must skip.
var otherJSON = map[string]string{
	"suite.json":           `[{"SuitePath": "/work/scenarios", "SpecReports": []}]`,
	"firedrill-suite.json": `{"schema": "firedrill.suite/v1", "drills": []}`,
	"baseline.json":        `{"schema": "firedrill.baseline/v1", "scenarios": {}}`,
	"notes.json":           `{"owner": "sre"}`,
}

func TestLoadDirSkipsOtherJSON(t *testing.T) {
	dir := copyFixtures(t)
	for name, data := range otherJSON {
		writeTestFile(t, filepath.Join(dir, name), data)
	}
	writeTestFile(t, filepath.Join(dir, "README.md"), "not JSON at all")
	rs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.DrillID)
	}
	if want := []string{"13fda4", "fea521", "fail01"}; !slices.Equal(ids, want) {
		t.Errorf("LoadDir drill IDs = %v, want %v (sorted by file name)", ids, want)
	}
}

func TestLoadDirRefusesBrokenReports(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"wrong-type.json", `{"schema": "firedrill.report/v1", "mttr": "fast"}`, "wrong-type.json"},
		{"truncated.json", `{"schema": "firedrill.report/v1", "scenario": "canary`, "truncated.json: not valid JSON"},
		{"future.json", `{"schema": "firedrill.report/v2"}`, `future.json: schema "firedrill.report/v2" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixtures(t)
			writeTestFile(t, filepath.Join(dir, tc.name), tc.data)
			_, err := LoadDir(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadDir error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRenderDir(t *testing.T) {
	dir := copyFixtures(t)
	for name, data := range otherJSON {
		if name != SuiteFile {
			writeTestFile(t, filepath.Join(dir, name), data)
		}
	}
	if err := RenderDir(dir); err != nil {
		t.Fatal(err)
	}
	want := []string{JUnitFile, SummaryFile, IndexFile, SuiteFile}
	for _, r := range fixtureReports(t) {
		want = append(want, HTMLName(r))
	}
	for _, name := range want {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("RenderDir did not write %s: %v", name, err)
			continue
		}
		if info.Size() == 0 {
			t.Errorf("RenderDir wrote an empty %s", name)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("RenderDir left temporary files: %v", leftovers)
	}
	var suite Suite
	data, err := os.ReadFile(filepath.Join(dir, SuiteFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &suite); err != nil {
		t.Fatalf("%s: %v", SuiteFile, err)
	}
	if len(suite.Drills) != 3 || suite.Passed != 2 || suite.Failed != 1 {
		t.Errorf("suite lists %d drills, %d passed, %d failed; want 3, 2, 1 (other JSON skipped)", len(suite.Drills), suite.Passed, suite.Failed)
	}
	junit, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit, &doc); err != nil {
		t.Fatalf("%s: %v", JUnitFile, err)
	}
	if len(doc.Suites) != 3 {
		t.Errorf("%s has %d testsuites, want 3", JUnitFile, len(doc.Suites))
	}
}

// TestRenderDirTwice checks that rendering is repeatable: the suite report
// written by the first run is not read back as a drill by the second.
func TestRenderDirTwice(t *testing.T) {
	dir := copyFixtures(t)
	for range 2 {
		if err := RenderDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(rendererFixtures) {
		t.Errorf("after two renders LoadDir reads %d reports, want %d", len(rs), len(rendererFixtures))
	}
}

func TestRenderDirWithoutReports(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "suite.json"), otherJSON["suite.json"])
	err := RenderDir(dir)
	if err == nil || err.Error() != "no drill reports in "+dir {
		t.Fatalf("RenderDir error = %v, want %q", err, "no drill reports in "+dir)
	}
}

func TestRenderDirNamesTheCorruptReport(t *testing.T) {
	dir := copyFixtures(t)
	writeTestFile(t, filepath.Join(dir, "broken.json"), `{"schema": "firedrill.report/v1", "timeline": {}}`)
	err := RenderDir(dir)
	if err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Fatalf("RenderDir error = %v, want one naming broken.json", err)
	}
	if _, err := os.Stat(filepath.Join(dir, JUnitFile)); err == nil {
		t.Errorf("RenderDir wrote %s despite a corrupt report", JUnitFile)
	}
}

func TestNewSuite(t *testing.T) {
	rs := fixtureReports(t)
	rs[0].MTTR = nil // failed-budget, as if never restored
	s := NewSuite(append(rs, nil))
	if s.Schema != SuiteSchemaVersion {
		t.Errorf("Schema = %q, want %q", s.Schema, SuiteSchemaVersion)
	}
	var order []string
	for _, e := range s.Drills {
		order = append(order, e.DrillID)
	}
	if want := []string{"13fda4", "fail01", "fea521"}; !slices.Equal(order, want) {
		t.Errorf("drills in order %v, want %v (scenario, then drill ID)", order, want)
	}
	if s.Passed != 2 || s.Failed != 1 || s.Skipped != 0 {
		t.Errorf("counts %d passed, %d failed, %d skipped; want 2, 1, 0", s.Passed, s.Failed, s.Skipped)
	}
	first := s.Drills[0]
	if first.File != "canary-bad-version-13fda4.json" || first.HTML != "canary-bad-version-13fda4.html" {
		t.Errorf("first drill files %q, %q", first.File, first.HTML)
	}
	if first.MTTR == nil || time.Duration(*first.MTTR) != 4697*time.Millisecond {
		t.Errorf("first drill MTTR = %v, want 4.697s", first.MTTR)
	}
	if s.Drills[1].MTTR != nil {
		t.Errorf("a drill without MTTR has suite MTTR %v, want none", s.Drills[1].MTTR)
	}
	wantStart := time.Date(2026, 11, 26, 10, 55, 27, 645702006, time.UTC)
	wantEnd := time.Date(2026, 11, 26, 10, 56, 22, 735658793, time.UTC)
	if !s.Started.Equal(wantStart) || !s.Finished.Equal(wantEnd) {
		t.Errorf("suite spans %s to %s, want %s to %s", s.Started, s.Finished, wantStart, wantEnd)
	}
}

func TestSuiteGolden(t *testing.T) {
	var b strings.Builder
	if err := writeSuite(&b, NewSuite(fixtureReports(t))); err != nil {
		t.Fatal(err)
	}
	golden(t, "suite.json", []byte(b.String()))
}

func TestLoadDirMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("LoadDir error = %v, want one naming %s", err, dir)
	}
}
