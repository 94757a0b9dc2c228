package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Phase statuses of a PhaseResult, named as JUnit names test case outcomes.
const (
	PhasePassed  = "passed"
	PhaseFailed  = "failed"
	PhaseSkipped = "skipped"
)

// drillPhases pairs each phase of a drill with the timeline event that
// proves it passed, so that a phase can be judged from the JSON alone.
var drillPhases = []struct{ name, event string }{
	{"steady-state", "steady-state"},
	{"inject", "onset"},
	{"detect", "detected"},
	{"rollback", "actuated"},
	{"restore", "restored"},
}

// NotSeenByUsers is what reports say for detection when the SLO never
// broke: there is no user-visible detection instant, and none is invented.
const NotSeenByUsers = "not seen by users"

// DrillPhases are the phase names of a drill in JUnit and Markdown, in order:
// the one-It-per-phase shape of a drill spec, so CI shows where a drill
// stopped rather than one opaque pass or fail.
var DrillPhases = []string{"steady-state", "inject", "detect", "rollback", "restore"}

// PhaseResult is the outcome of one phase of a drill. Duration is the time
// from the previous phase's event (t0 for steady-state) to this phase's
// event, or 0 when either is missing from the timeline.
type PhaseResult struct {
	Name     string
	Status   string
	Message  string
	Duration time.Duration
}

// PhaseResults judges each of DrillPhases from the report alone, so the JUnit
// and Markdown views can be rendered offline long after the drill:
//   - a phase passes when its event is in the timeline (steady-state,
//     onset, detected, actuated, restored); restore also needs verdict pass,
//     so a drill restored over budget fails at restore;
//   - in a failed drill the first phase that did not pass fails with the
//     report's Reason, and later phases are skipped as not reached;
//   - in a skipped drill every phase is skipped with the Reason;
//   - in a passed drill a phase without its event is skipped. Calibration
//     drills (scenario or label "calibration") have no canary and no
//     rollback, so their detect, rollback and restore read "not part of a
//     calibration drill"; a failed calibration fails at detect, since what
//     it checks is the observer's measurement of the outage.
//
// A verdict other than pass or skipped counts as fail.
func PhaseResults(r *Report) []PhaseResult {
	verdict := verdictOf(r)
	out := make([]PhaseResult, 0, len(drillPhases))
	failed := ""
	for i, p := range drillPhases {
		res := PhaseResult{Name: p.name, Duration: phaseDuration(r, i)}
		_, ok := r.Event(p.event)
		passed := ok && (p.name != "restore" || verdict == VerdictPass)
		switch {
		case verdict == VerdictSkipped:
			res.Status, res.Message = PhaseSkipped, r.Reason
		case p.name == "detect" && !ok && failed == "" && r.MTTR != nil && r.MTTR.NotSeenByUsers:
			res.Status, res.Message = PhaseSkipped, NotSeenByUsers+": the SLO never broke, so there is no detection time"
		case failed != "":
			res.Status, res.Message = PhaseSkipped, skipMessage(r, i, failed)
		case passed:
			res.Status = PhasePassed
		case verdict == VerdictFail:
			res.Status, res.Message = PhaseFailed, r.Reason
			failed = p.name
		default:
			res.Status, res.Message = PhaseSkipped, skipMessage(r, i, "")
		}
		out = append(out, res)
	}
	return out
}

// skipMessage says why phase i of r was not run: it is not part of a
// calibration drill, it was not reached after failed, or its event is absent.
func skipMessage(r *Report, i int, failed string) string {
	p := drillPhases[i]
	if _, ok := r.Event(p.event); !ok && isCalibration(r) && p.name != "steady-state" && p.name != "inject" {
		return "not part of a calibration drill"
	}
	if failed != "" {
		return "not reached: " + failed + " failed"
	}
	return fmt.Sprintf("no %q event in the timeline", p.event)
}

// isCalibration reports whether r is a calibration drill, which measures a
// known outage instead of rolling back a canary.
func isCalibration(r *Report) bool {
	return r.Scenario == "calibration" || slices.Contains(r.Labels, "calibration")
}

// phaseDuration is the time from the event of phase i-1 (t0 for the first
// phase) to the event of phase i, from the events' offsets so that it
// matches the timeline a reader sees; 0 when unknown or out of order.
func phaseDuration(r *Report, i int) time.Duration {
	end, ok := r.Event(drillPhases[i].event)
	if !ok {
		return 0
	}
	var start Duration
	if i > 0 {
		prev, ok := r.Event(drillPhases[i-1].event)
		if !ok {
			return 0
		}
		start = prev.Offset
	}
	return max(time.Duration(end.Offset-start), 0)
}

// junitSuites is the JUnit XML document: one testsuite per drill, one
// testcase per phase, as CI systems (GitHub, GitLab, Jenkins) display them.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out"`
}

// junitText is element text kept in a CDATA section, so that the timeline
// in system-out stays readable in the raw file instead of one long line of
// character references.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes rs as one JUnit XML document, drills sorted by scenario
// then drill ID so the file diffs cleanly between runs. Each drill is a
// testsuite with its MTTR figures as properties and its timeline as
// system-out, so a CI failure shows where the drill stopped and why.
func WriteJUnit(w io.Writer, rs []*Report) error {
	if err := checkReports(rs); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	doc := junitSuites{Name: "firedrill", Suites: []junitSuite{}}
	var total time.Duration
	for _, r := range sortReports(rs) {
		s := junitSuiteOf(r)
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		total += drillTime(r)
	}
	doc.Time = fmtSeconds(Duration(total), 3)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// junitSuiteOf renders one drill as a testsuite.
func junitSuiteOf(r *Report) junitSuite {
	s := junitSuite{
		Name: r.Scenario, Time: fmtSeconds(Duration(drillTime(r)), 3),
		Properties: junitProperties(r),
	}
	if len(r.Timeline) > 0 {
		s.SystemOut = &junitText{Text: "\n" + junitTimeline(r)}
	}
	if !r.Started.IsZero() {
		s.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, p := range PhaseResults(r) {
		c := junitCase{Classname: r.Scenario, Name: p.Name, Time: fmtSeconds(Duration(p.Duration), 3)}
		switch p.Status {
		case PhaseFailed:
			c.Failure = &junitMessage{Message: p.Message, Body: p.Message}
			s.Failures++
		case PhaseSkipped:
			c.Skipped = &junitMessage{Message: p.Message}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	return s
}

// drillTime is how long the drill ran, or 0 when its clock is unknown.
func drillTime(r *Report) time.Duration {
	if r.Started.IsZero() || r.Finished.Before(r.Started) {
		return 0
	}
	return r.Finished.Sub(r.Started)
}

// junitProperties lists the drill's MTTR figures and identity, leaving out
// values the report does not have (no MTTR when service never came back).
func junitProperties(r *Report) []junitProperty {
	var ps []junitProperty
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, junitProperty{Name: name, Value: value})
		}
	}
	if m := r.MTTR; m != nil {
		add("mttr", fmtSeconds(m.Total, 3))
		add("mttr.detect", fmtSeconds(m.Phases.Detect, 3))
		add("mttr.decide", fmtSeconds(m.Phases.Decide, 3))
		add("mttr.actuate", fmtSeconds(m.Phases.Actuate, 3))
		add("mttr.recover", fmtSeconds(m.Phases.Recover, 3))
		add("mttr.boundMinus", fmtSeconds(m.Minus, 3))
		add("mttr.boundPlus", fmtSeconds(m.Plus, 3))
		if m.NotSeenByUsers {
			add("mttr.detected", NotSeenByUsers)
		}
	}
	if r.Budget > 0 {
		add("budget", fmtSeconds(r.Budget, 3))
	}
	if r.ErrorBudget.Total > 0 {
		add("errorBudget.failed", strconv.Itoa(r.ErrorBudget.Failed))
		add("errorBudget.fraction", strconv.FormatFloat(r.ErrorBudget.Fraction, 'f', 4, 64))
	}
	add("detectedBy", r.DetectedBy)
	add("verdict", verdictOf(r))
	add("drillID", r.DrillID)
	add("namespace", r.Namespace)
	add("servedVersionAfter", r.ServedVersionAfter)
	return ps
}

// junitTimeline lists the timeline one event a line, offset first, so that
// the CI log of a failed drill shows what happened up to the failure.
func junitTimeline(r *Report) string {
	var b strings.Builder
	for _, e := range r.Timeline {
		fmt.Fprintf(&b, "%8ss  %-15s %s\n", fmtSeconds(e.Offset, 3), e.Name, e.Detail)
	}
	return strings.Map(xmlChar, b.String())
}

// xmlChar replaces the control characters XML 1.0 forbids even in CDATA,
// which encoding/xml writes verbatim, so an odd event detail cannot make
// the whole JUnit file unparseable.
func xmlChar(c rune) rune {
	if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
		return '\uFFFD'
	}
	return c
}
