package reports

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"
)

// withoutEvents drops the named events from r's timeline.
func withoutEvents(r *Report, names ...string) *Report {
	r.Timeline = slices.DeleteFunc(r.Timeline, func(e Event) bool { return slices.Contains(names, e.Name) })
	return r
}

// calibrationReport is a calibration drill as drills/ writes it: no canary,
// an onset for the outage and no detection, rollback or restore.
func calibrationReport(verdict, reason string) *Report {
	return &Report{
		Schema: SchemaVersion, Scenario: "calibration", Labels: []string{"calibration"}, DrillID: "c1",
		StableVersion: "v1", Verdict: verdict, Reason: reason,
		Timeline: []Event{
			{Name: "start"},
			{Name: "steady-state", Offset: Duration(4 * time.Second)},
			{Name: "onset", Offset: Duration(6 * time.Second)},
		},
	}
}

func TestDrillPhasesNameTheirEvents(t *testing.T) {
	var names []string
	for _, p := range drillPhases {
		names = append(names, p.name)
	}
	if !slices.Equal(names, DrillPhases) {
		t.Errorf("drillPhases %v and DrillPhases %v disagree", names, DrillPhases)
	}
}

func TestPhaseResults(t *testing.T) {
	const (
		P = PhasePassed
		F = PhaseFailed
		S = PhaseSkipped
	)
	overBudget := "MTTR 4.697s ± 20ms exceeds budget 1s; longest phase: actuate (3.167s)"
	notRestored := "the drill did not reach restored"
	for _, tc := range []struct {
		name     string
		report   func(t *testing.T) *Report
		status   []string
		messages []string
	}{{
		name:     "pass",
		report:   func(t *testing.T) *Report { return fixtureReport(t, "canary-bad-version.json") },
		status:   []string{P, P, P, P, P},
		messages: []string{"", "", "", "", ""},
	}, {
		name:     "over budget fails at restore",
		report:   func(t *testing.T) *Report { return fixtureReport(t, "failed-budget.json") },
		status:   []string{P, P, P, P, F},
		messages: []string{"", "", "", "", overBudget},
	}, {
		name: "no actuation fails at rollback",
		report: func(t *testing.T) *Report {
			r := withoutEvents(fixtureReport(t, "canary-bad-version.json"), "actuated", "restored")
			r.Verdict, r.Reason, r.MTTR = VerdictFail, notRestored, nil
			return r
		},
		status:   []string{P, P, P, F, S},
		messages: []string{"", "", "", notRestored, "not reached: rollback failed"},
	}, {
		name: "later events after a failed phase are not reached",
		report: func(t *testing.T) *Report {
			r := withoutEvents(fixtureReport(t, "canary-bad-version.json"), "detected")
			r.Verdict, r.Reason = VerdictFail, "no SLO breach"
			return r
		},
		status:   []string{P, P, F, S, S},
		messages: []string{"", "", "no SLO breach", "not reached: detect failed", "not reached: detect failed"},
	}, {
		name: "skipped drill",
		report: func(*testing.T) *Report {
			return &Report{Scenario: "argo-abort", Verdict: VerdictSkipped, Reason: "Argo Rollouts is not installed"}
		},
		status:   []string{S, S, S, S, S},
		messages: slices.Repeat([]string{"Argo Rollouts is not installed"}, 5),
	}, {
		name: "unknown verdict reads as failed",
		report: func(t *testing.T) *Report {
			r := fixtureReport(t, "canary-bad-version.json")
			r.Verdict = ""
			return r
		},
		status:   []string{P, P, P, P, F},
		messages: []string{"", "", "", "", "restored in 4.697s (budget 45s), detected by harness SLO monitor"},
	}, {
		name: "passed drill missing an event",
		report: func(t *testing.T) *Report {
			return withoutEvents(fixtureReport(t, "canary-bad-version.json"), "detected")
		},
		status:   []string{P, P, S, P, P},
		messages: []string{"", "", `no "detected" event in the timeline`, "", ""},
	}, {
		name: "not seen by users: detect is skipped, never invented",
		report: func(t *testing.T) *Report {
			r := withoutEvents(fixtureReport(t, "canary-bad-version.json"), "detected")
			r.MTTR.NotSeenByUsers = true
			return r
		},
		status:   []string{P, P, S, P, P},
		messages: []string{"", "", "not seen by users: the SLO never broke, so there is no detection time", "", ""},
	}, {
		name: "not seen by users in a drill that failed later",
		report: func(t *testing.T) *Report {
			r := withoutEvents(fixtureReport(t, "canary-bad-version.json"), "detected", "actuated", "restored")
			r.MTTR.NotSeenByUsers = true
			r.Verdict, r.Reason = VerdictFail, "await rollback: not done"
			return r
		},
		status:   []string{P, P, S, F, S},
		messages: []string{"", "", "not seen by users: the SLO never broke, so there is no detection time", "await rollback: not done", "not reached: rollback failed"},
	}, {
		name:     "calibration",
		report:   func(*testing.T) *Report { return calibrationReport(VerdictPass, "calibration requested 3s") },
		status:   []string{P, P, S, S, S},
		messages: []string{"", "", "not part of a calibration drill", "not part of a calibration drill", "not part of a calibration drill"},
	}, {
		name:     "calibration off fails at detect",
		report:   func(*testing.T) *Report { return calibrationReport(VerdictFail, "calibration off") },
		status:   []string{P, P, F, S, S},
		messages: []string{"", "", "calibration off", "not part of a calibration drill", "not part of a calibration drill"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := PhaseResults(tc.report(t))
			var names, status, messages []string
			for _, p := range got {
				names = append(names, p.Name)
				status = append(status, p.Status)
				messages = append(messages, p.Message)
			}
			if !slices.Equal(names, DrillPhases) {
				t.Errorf("phases %v, want %v", names, DrillPhases)
			}
			if !slices.Equal(status, tc.status) {
				t.Errorf("statuses %v, want %v", status, tc.status)
			}
			if !slices.Equal(messages, tc.messages) {
				t.Errorf("messages %q, want %q", messages, tc.messages)
			}
		})
	}
}

func TestPhaseResultsDurations(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name   string
		report *Report
		want   []time.Duration
	}{
		// steady-state 5.322, onset 7.603, detected 8.122, actuated 12.3, restored 12.3
		{"all events", fixtureReport(t, "canary-bad-version.json"), []time.Duration{ms(5322), ms(2281), ms(519), ms(4178), 0}},
		{"a missing event leaves both neighbours unknown", withoutEvents(fixtureReport(t, "canary-bad-version.json"), "detected"), []time.Duration{ms(5322), ms(2281), 0, 0, 0}},
		{"calibration", calibrationReport(VerdictPass, ""), []time.Duration{ms(4000), ms(2000), 0, 0, 0}},
	} {
		var got []time.Duration
		for _, p := range PhaseResults(tc.report) {
			got = append(got, p.Duration)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: durations %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestJUnitGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, fixtureReports(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.xml", b.Bytes())
}

// parsedJUnit is the JUnit document as a CI system reads it, declared apart
// from the writer's types so that the test checks the XML, not the structs.
type parsedJUnit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, rs []*Report) parsedJUnit {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, rs); err != nil {
		t.Fatal(err)
	}
	var doc parsedJUnit
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("WriteJUnit output does not parse: %v\n%s", err, b.String())
	}
	return doc
}

func TestJUnitCounts(t *testing.T) {
	skipped := &Report{Scenario: "argo-abort", DrillID: "s1", Verdict: VerdictSkipped, Reason: "Argo Rollouts is not installed"}
	doc := parseJUnit(t, append(fixtureReports(t), skipped))
	if doc.Tests != 20 || doc.Failures != 1 || doc.Skipped != 5 {
		t.Errorf("testsuites counts tests=%d failures=%d skipped=%d, want 20, 1, 5", doc.Tests, doc.Failures, doc.Skipped)
	}
	var order []string
	for _, s := range doc.Suites {
		order = append(order, s.Name)
	}
	if want := []string{"argo-abort", "canary-bad-version", "canary-bad-version", "canary-crashloop"}; !slices.Equal(order, want) {
		t.Errorf("testsuites in order %v, want %v", order, want)
	}
	failed := doc.Suites[2]
	if failed.Tests != 5 || failed.Failures != 1 || failed.Skipped != 0 {
		t.Errorf("failed drill counts tests=%d failures=%d skipped=%d, want 5, 1, 0", failed.Tests, failed.Failures, failed.Skipped)
	}
	restore := failed.Cases[4]
	if restore.Name != "restore" || restore.Classname != "canary-bad-version" || restore.Failure == nil {
		t.Fatalf("last case of the failed drill = %+v, want a failed restore", restore)
	}
	if want := "MTTR 4.697s ± 20ms exceeds budget 1s; longest phase: actuate (3.167s)"; restore.Failure.Message != want || restore.Failure.Body != want {
		t.Errorf("restore failure %q / %q, want the reason %q", restore.Failure.Message, restore.Failure.Body, want)
	}
	if rollback := failed.Cases[3]; rollback.Time != "4.178" {
		t.Errorf("rollback time = %q, want 4.178", rollback.Time)
	}
	if s := doc.Suites[0].Cases[0].Skipped; s == nil || s.Message != "Argo Rollouts is not installed" {
		t.Errorf("skipped drill's first case skipped = %+v, want the reason", s)
	}
}

func TestJUnitProperties(t *testing.T) {
	props := func(s int, doc parsedJUnit) map[string]string {
		m := map[string]string{}
		for _, p := range doc.Suites[s].Properties {
			m[p.Name] = p.Value
		}
		return m
	}
	got := props(0, parseJUnit(t, []*Report{fixtureReport(t, "canary-bad-version.json")}))
	want := map[string]string{
		"mttr": "4.697", "mttr.detect": "0.519", "mttr.decide": "1.011", "mttr.actuate": "3.167",
		"mttr.recover": "0.000", "mttr.boundMinus": "0.020", "mttr.boundPlus": "0.020", "budget": "45.000",
		"errorBudget.failed": "20", "errorBudget.fraction": "0.0851", "detectedBy": "harness SLO monitor",
		"verdict": "pass", "drillID": "13fda4", "namespace": "drill-canary-bad-version-13fda4",
		"servedVersionAfter": "v1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("property %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("properties %v, want exactly %v", got, want)
	}

	bare := &Report{Scenario: "argo-abort", DrillID: "s1", Verdict: VerdictSkipped}
	got = props(0, parseJUnit(t, []*Report{bare}))
	for _, absent := range []string{"mttr", "mttr.detect", "budget", "errorBudget.failed", "detectedBy", "servedVersionAfter", "namespace"} {
		if v, ok := got[absent]; ok {
			t.Errorf("report without %s has property %s=%q", absent, absent, v)
		}
	}
}

func TestJUnitIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	rs := fixtureReports(t)
	if err := WriteJUnit(&a, rs); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(rs)
	if err := WriteJUnit(&b, rs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("WriteJUnit output depends on the order of the reports")
	}
}

func TestJUnitEscapesText(t *testing.T) {
	r := fixtureReport(t, "failed-budget.json")
	r.Reason = `served "v2" <canary> & not v1`
	r.Timeline = append(r.Timeline, Event{Name: "odd", Detail: "nul \x00 and ]]> end of CDATA"})
	doc := parseJUnit(t, []*Report{r})
	if got := doc.Suites[0].Cases[4].Failure.Message; got != r.Reason {
		t.Errorf("failure message round-trips as %q, want %q", got, r.Reason)
	}
}

func TestWriteRefusesNilReport(t *testing.T) {
	rs := []*Report{fixtureReport(t, "canary-crashloop.json"), nil}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"junit":    func(b *bytes.Buffer) error { return WriteJUnit(b, rs) },
		"markdown": func(b *bytes.Buffer) error { return WriteMarkdown(b, rs) },
		"index":    func(b *bytes.Buffer) error { return WriteIndex(b, rs) },
	} {
		var b bytes.Buffer
		if err := write(&b); err == nil || !strings.Contains(err.Error(), "report 1 is nil") {
			t.Errorf("%s: error = %v, want one naming report 1", name, err)
		}
	}
}
