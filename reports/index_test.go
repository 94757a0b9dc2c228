package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestIndexGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteIndex(&b, fixtureReports(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "index.html", b.Bytes())
}

func TestIndexLinksEveryDrill(t *testing.T) {
	var b bytes.Buffer
	rs := fixtureReports(t)
	if err := WriteIndex(&b, rs); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, r := range rs {
		for _, href := range []string{HTMLName(r), FileName(r.Scenario, r.DrillID)} {
			if !strings.Contains(page, `href="`+href+`"`) {
				t.Errorf("index does not link %s", href)
			}
		}
	}
	for _, want := range []string{"4.70 s ± 0.020 s / 45 s", "4.70 s ± 0.020 s / 1 s", "3.02 s ± 0.020 s / 60 s", "fault:crashloop", "❌ fail", "3 drills, 2 passed, 1 failed"} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %q", want)
		}
	}
}

// TestIndexIsSelfContained checks the page needs nothing but itself: no
// script, no stylesheet or image fetched from elsewhere.
func TestIndexIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	r := &Report{Scenario: `x"><script>alert(1)</script>`, DrillID: "1", Verdict: VerdictPass, Labels: []string{"<img src=x>"}}
	if err := WriteIndex(&b, append(fixtureReports(t), r)); err != nil {
		t.Fatal(err)
	}
	page := strings.ToLower(b.String())
	for _, banned := range []string{"<script", "<link", "<img", "<iframe", "http://", "https://", "@import", "url("} {
		if strings.Contains(page, banned) {
			t.Errorf("index contains %q", banned)
		}
	}
}
