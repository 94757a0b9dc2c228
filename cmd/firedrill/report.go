package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/audit"
	"github.com/firedrill-dev/firedrill/reports"
)

// runReport dispatches `firedrill report render|compare|audit`. None needs
// a cluster: each works from what a run wrote.
func runReport(_ context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("report: want a subcommand, render, compare or audit: %w", errUsage)
	}
	switch args[0] {
	case "render":
		return runReportRender(args[1:], out)
	case "compare":
		return runReportCompare(args[1:], out)
	case "audit":
		return runReportAudit(args[1:], out)
	}
	return fmt.Errorf("report: unknown subcommand %q (want render, compare or audit): %w", args[0], errUsage)
}

// runReportAudit prints the audit log of one drill (DIR is its evidence
// directory) or of every drill of a run (DIR is the run directory) as a
// timeline.
func runReportAudit(args []string, out io.Writer) error {
	dir, err := oneDir("report audit", args)
	if err != nil {
		return err
	}
	logs, _ := filepath.Glob(filepath.Join(dir, audit.FileName))
	if len(logs) == 0 {
		logs, _ = filepath.Glob(filepath.Join(dir, "*", audit.FileName))
	}
	if len(logs) == 0 {
		return fmt.Errorf("report audit: no %s in %s or its drill directories", audit.FileName, dir)
	}
	for i, path := range logs {
		entries, err := readAudit(path)
		if err != nil {
			return fmt.Errorf("report audit: %s: %w", path, err)
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%s (%d entries)\n", filepath.Base(filepath.Dir(path)), len(entries))
		audit.Timeline(out, entries)
	}
	return nil
}

// oneDir parses a report subcommand that takes no flags and one DIR.
func oneDir(cmd string, args []string) (string, error) {
	fset := flag.NewFlagSet(cmd, flag.ContinueOnError)
	if err := fset.Parse(args); err != nil {
		return "", fmt.Errorf("%s: %w", cmd, errUsage)
	}
	if fset.NArg() != 1 {
		return "", fmt.Errorf("%s takes one DIR, got %q: %w", cmd, fset.Args(), errUsage)
	}
	return fset.Arg(0), nil
}

func readAudit(path string) ([]audit.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.Read(f)
}

// runReportRender regenerates JUnit, Markdown, HTML and the suite summary
// for the drill reports in DIR, and lists what it wrote, index first since
// that is where a reader starts.
func runReportRender(args []string, out io.Writer) error {
	dir, err := oneDir("report render", args)
	if err != nil {
		return err
	}
	if err := reports.RenderDir(dir); err != nil {
		return fmt.Errorf("report render: %w", err)
	}
	rs, err := reports.LoadDir(dir)
	if err != nil {
		return fmt.Errorf("report render: %w", err)
	}
	for _, name := range []string{reports.IndexFile, reports.SummaryFile, reports.JUnitFile, reports.SuiteFile} {
		fmt.Fprintln(out, "wrote", filepath.Join(dir, name))
	}
	for _, r := range rs {
		fmt.Fprintln(out, "wrote", filepath.Join(dir, reports.HTMLName(r)))
	}
	if len(reports.Strategies(rs)) > 0 {
		fmt.Fprintln(out, "wrote", filepath.Join(dir, reports.StrategiesMarkdownFile), "and", filepath.Join(dir, reports.StrategiesHTMLFile))
	}
	return nil
}

// compareFlags are the flags of `report compare`.
type compareFlags struct {
	baseline  string
	tolerance float64
	slack     time.Duration
	update    bool
	stat      reports.Stat
	dir       string
}

func parseCompareFlags(args []string) (*compareFlags, error) {
	f := &compareFlags{}
	fset := flag.NewFlagSet("report compare", flag.ContinueOnError)
	fset.StringVar(&f.baseline, "baseline", "", "baseline file to hold the run to (required)")
	fset.Float64Var(&f.tolerance, "tolerance", 0.2, "fraction by which an MTTR may exceed its baseline")
	fset.DurationVar(&f.slack, "slack", 500*time.Millisecond, "MTTR allowance on top of the tolerance, for observer noise on short MTTRs")
	fset.BoolVar(&f.update, "update-baseline", false, "record this run's MTTRs as the baseline (creating the file) and exit 0")
	stat := fset.String("stat", string(reports.StatLatest), "with repeats, the MTTR each scenario is held to: latest, p50, p90 or max")
	if err := fset.Parse(args); err != nil {
		return nil, fmt.Errorf("report compare: %w", errUsage)
	}
	var err error
	if f.stat, err = reports.ParseStat(*stat); err != nil {
		return nil, fmt.Errorf("report compare: --%w: %w", err, errUsage)
	}
	switch {
	case fset.NArg() != 1:
		return nil, fmt.Errorf("report compare takes one DIR, got %q: %w", fset.Args(), errUsage)
	case f.baseline == "":
		return nil, fmt.Errorf("report compare: --baseline FILE is required: %w", errUsage)
	case f.tolerance < 0:
		return nil, fmt.Errorf("report compare: --tolerance %v is negative: %w", f.tolerance, errUsage)
	case f.slack < 0:
		return nil, fmt.Errorf("report compare: --slack %v is negative: %w", f.slack, errUsage)
	}
	f.dir = fset.Arg(0)
	return f, nil
}

// runReportCompare is the MTTR regression gate: it prints how each scenario
// of the run in DIR compares with the baseline and fails, naming the
// scenarios, when one regressed or was not restored. With --update-baseline
// it records the run as the new baseline instead of failing.
func runReportCompare(args []string, out io.Writer) error {
	f, err := parseCompareFlags(args)
	if err != nil {
		return err
	}
	rs, err := reports.LoadDir(f.dir)
	if err != nil {
		return fmt.Errorf("report compare: %w", err)
	}
	if len(rs) == 0 {
		return fmt.Errorf("report compare: no drill reports in %s", f.dir)
	}
	var c reports.Comparison
	b, err := reports.ReadBaseline(f.baseline)
	switch {
	case err == nil:
		c = reports.CompareBy(b, rs, f.stat, f.tolerance, f.slack)
		fmt.Fprint(out, c.String())
	case errors.Is(err, fs.ErrNotExist) && f.update:
		fmt.Fprintf(out, "no baseline at %s yet\n", f.baseline)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("report compare: no baseline at %s (record one with --update-baseline)", f.baseline)
	default:
		return fmt.Errorf("report compare: %w", err)
	}
	if f.update {
		return updateBaseline(f.baseline, rs, f.stat, out)
	}
	if c.Failed() {
		return gateError(c)
	}
	return nil
}

// updateBaseline writes the run's baseline to path. It refuses to write one
// without scenarios, which would replace a useful baseline with one that
// holds nothing to account.
func updateBaseline(path string, rs []*reports.Report, stat reports.Stat, out io.Writer) error {
	nb := reports.NewBaselineBy(rs, stat)
	if len(nb.Scenarios) == 0 {
		return fmt.Errorf("report compare: no passing drill with an MTTR, baseline %s not written", path)
	}
	if err := reports.WriteBaseline(path, nb); err != nil {
		return fmt.Errorf("report compare: %w", err)
	}
	fmt.Fprintf(out, "wrote baseline %s: %d scenario(s)\n", path, len(nb.Scenarios))
	return nil
}

// gateError is the one-line reason a failed comparison exits 1, naming the
// scenarios so that a CI summary shows them without the full log.
func gateError(c reports.Comparison) error {
	var parts []string
	if len(c.Regressions) > 0 {
		names := make([]string, len(c.Regressions))
		for i, r := range c.Regressions {
			names[i] = r.Scenario
		}
		parts = append(parts, "MTTR regressed in "+strings.Join(names, ", "))
	}
	if len(c.NotRestored) > 0 {
		parts = append(parts, "service not restored in "+strings.Join(c.NotRestored, ", "))
	}
	return fmt.Errorf("report compare: %s", strings.Join(parts, "; "))
}
