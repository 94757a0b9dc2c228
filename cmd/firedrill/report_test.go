package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
)

// reportFixtureDir copies the real drill reports into a fresh directory, so that
// rendering and baselines never touch the package's testdata.
func reportFixtureDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"canary-bad-version.json", "canary-crashloop.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "reports", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// dispatchOut calls dispatch as main does, returning what it printed.
func dispatchOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := dispatch(context.Background(), args, &out)
	return out.String(), err
}

// writeTestBaseline writes a baseline holding canary-bad-version (4.697s in the
// fixture) to mttr and canary-crashloop to its fixture MTTR.
func writeTestBaseline(t *testing.T, mttr time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "baseline.json")
	b := &reports.Baseline{Scenarios: map[string]reports.BaselineEntry{
		"canary-bad-version": {MTTR: reports.Duration(mttr), DrillID: "earlier"},
		"canary-crashloop":   {MTTR: reports.Duration(3015 * time.Millisecond), DrillID: "fea521"},
	}}
	if err := reports.WriteBaseline(path, b); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportCompareRegressionNamesScenario(t *testing.T) {
	dir := reportFixtureDir(t)
	baseline := writeTestBaseline(t, 2*time.Second)
	out, err := dispatchOut(t, "report", "compare", "--baseline", baseline, dir)
	if err == nil || !strings.Contains(err.Error(), "canary-bad-version") || strings.Contains(err.Error(), "canary-crashloop") {
		t.Fatalf("err = %v, want a regression naming only canary-bad-version", err)
	}
	if errors.Is(err, errUsage) || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q, want a one-line error that main maps to exit 1", err)
	}
	if !strings.HasPrefix(out, "REGRESSION canary-bad-version: MTTR 4.697s vs baseline 2s (limit 2.9s)\n") {
		t.Errorf("output does not start with the regression:\n%s", out)
	}
}

func TestReportCompareEqualPasses(t *testing.T) {
	dir := reportFixtureDir(t)
	baseline := writeTestBaseline(t, 4697*time.Millisecond)
	out, err := dispatchOut(t, "report", "compare", "--baseline", baseline, "--tolerance", "0", "--slack", "0s", dir)
	if err != nil {
		t.Fatalf("err = %v, output:\n%s", err, out)
	}
	if !strings.Contains(out, "unchanged canary-bad-version") || !strings.Contains(out, "unchanged canary-crashloop") {
		t.Errorf("output:\n%s", out)
	}
}

func TestReportCompareUpdateBaseline(t *testing.T) {
	dir := reportFixtureDir(t)
	path := filepath.Join(t.TempDir(), "ci", "baseline.json")
	out, err := dispatchOut(t, "report", "compare", "--baseline", path, "--update-baseline", dir)
	if err != nil {
		t.Fatalf("update without a baseline: %v", err)
	}
	if !strings.Contains(out, "wrote baseline "+path+": 2 scenario(s)") {
		t.Errorf("output:\n%s", out)
	}
	b, err := reports.ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Scenarios["canary-bad-version"]; got.MTTR != reports.Duration(4697*time.Millisecond) || got.DrillID != "13fda4" {
		t.Errorf("baseline entry = %+v, want the fixture's 4.697s from drill 13fda4", got)
	}
	if _, err := dispatchOut(t, "report", "compare", "--baseline", path, dir); err != nil {
		t.Errorf("compare against the baseline just written: %v", err)
	}

	// A regressing run still updates the baseline and exits 0, after
	// printing what changed.
	worse := writeTestBaseline(t, 2*time.Second)
	out, err = dispatchOut(t, "report", "compare", "--baseline", worse, "--update-baseline", dir)
	if err != nil || !strings.Contains(out, "REGRESSION canary-bad-version") {
		t.Fatalf("update over a regression: err = %v, output:\n%s", err, out)
	}
	if b, err := reports.ReadBaseline(worse); err != nil || b.Scenarios["canary-bad-version"].DrillID != "13fda4" {
		t.Errorf("baseline after update = %+v, %v", b, err)
	}
}

func TestReportCompareErrors(t *testing.T) {
	dir := reportFixtureDir(t)
	absent := filepath.Join(t.TempDir(), "absent.json")
	_, err := dispatchOut(t, "report", "compare", "--baseline", absent, dir)
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), absent) || !strings.Contains(err.Error(), "--update-baseline") {
		t.Errorf("missing baseline: err = %v, want one naming the file and --update-baseline", err)
	}
	if _, err := dispatchOut(t, "report", "compare", "--baseline", writeTestBaseline(t, time.Second), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no drill reports") {
		t.Errorf("empty dir: err = %v, want no drill reports", err)
	}
	for _, args := range [][]string{
		{"report"},
		{"report", "publish"},
		{"report", "render"},
		{"report", "render", dir, dir},
		{"report", "compare", dir},
		{"report", "compare", "--baseline", absent},
		{"report", "compare", "--baseline", absent, "--tolerance", "-0.1", dir},
		{"report", "compare", "--baseline", absent, "--slack", "soon", dir},
	} {
		if _, err := dispatchOut(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}

func TestReportRender(t *testing.T) {
	dir := reportFixtureDir(t)
	out, err := dispatchOut(t, "report", "render", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{reports.IndexFile, reports.SummaryFile, reports.JUnitFile, reports.SuiteFile, "canary-bad-version-13fda4.html", "canary-crashloop-fea521.html"} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("render did not write %s: %v", name, err)
		}
		if !strings.Contains(out, "wrote "+path+"\n") {
			t.Errorf("output does not list %s:\n%s", path, out)
		}
	}
}

func TestUsageListsReport(t *testing.T) {
	out, err := dispatchOut(t, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"report render DIR", "report compare --baseline FILE", "DIR\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks %q:\n%s", want, out)
		}
	}
}
