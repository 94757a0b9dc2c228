package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, fixtureReports(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.md", b.Bytes())
}

// markdownRow returns the table row of the drill whose link text is drill.
func markdownRow(t *testing.T, md, drill string) string {
	t.Helper()
	for line := range strings.Lines(md) {
		if strings.HasPrefix(line, "| ["+drill+"]") {
			return strings.TrimSuffix(line, "\n")
		}
	}
	t.Fatalf("no table row for %s in\n%s", drill, md)
	return ""
}

func TestMarkdownRow(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, fixtureReports(t)); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.Contains(md, "\n3 drills, 2 passed, 1 failed.\n") {
		t.Errorf("totals line missing from\n%s", md)
	}
	row := markdownRow(t, md, "canary-bad-version 13fda4")
	for _, cell := range []string{
		"(canary-bad-version-13fda4.html)", "✅ pass", "4.70 s ± 0.020 s / 45 s",
		"0.52 · 1.01 · 3.17 · 0.00", "20 of 235 (8.5%)", "harness SLO monitor",
	} {
		if !strings.Contains(row, cell) {
			t.Errorf("row %q lacks %q", row, cell)
		}
	}
	if row := markdownRow(t, md, "canary-bad-version fail01"); !strings.Contains(row, "❌ fail") || !strings.Contains(row, "4.70 s ± 0.020 s / 1 s") {
		t.Errorf("failed drill row %q", row)
	}
	reason := "- ❌ fail **canary-bad-version fail01** at restore: MTTR 4.697s ± 20ms exceeds budget 1s; longest phase: actuate (3.167s)\n"
	if !strings.Contains(md, reason) {
		t.Errorf("summary lacks the failed drill's reason %q:\n%s", reason, md)
	}
	if strings.Contains(md, "restored in 4.697s") {
		t.Error("summary lists the reason of a passed drill")
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	r := &Report{
		Scenario: "a|b", DrillID: "x1", Verdict: "broken",
		DetectedBy: "flag|service", Reason: "line one\nline | two <b>",
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, []*Report{r}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	row := markdownRow(t, md, `a\|b x1`)
	if cells := strings.Count(strings.ReplaceAll(row, `\|`, ""), "|"); cells != 7 {
		t.Errorf("row %q has %d unescaped pipes, want 7 (6 cells)", row, cells)
	}
	for _, want := range []string{`flag\|service`, "❌ fail", "— / —", "| — | — |"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if !strings.Contains(md, `line one line \| two \<b\>`) {
		t.Errorf("reason not folded and escaped in\n%s", md)
	}
}

func TestMarkdownSkippedAndEmpty(t *testing.T) {
	var b bytes.Buffer
	skipped := &Report{Scenario: "argo-abort", DrillID: "s1", Verdict: VerdictSkipped, Reason: "Argo Rollouts is not installed"}
	if err := WriteMarkdown(&b, []*Report{skipped}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 drill, 0 passed, 0 failed, 1 skipped.", "⏭ skipped", "- ⏭ skipped **argo-abort s1**: Argo Rollouts is not installed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := WriteMarkdown(&b, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "|") || !strings.Contains(b.String(), "0 drills") {
		t.Errorf("summary of no drills:\n%s", b.String())
	}
}
