package reports

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// SchemaVersion tags every report so that readers can refuse a layout they
// do not understand instead of silently misreading it.
const SchemaVersion = "firedrill.report/v1"

// Verdicts a Report can carry. Skipped is distinct from fail so that a drill
// whose preconditions were missing (no Chaos Mesh, no Argo) never reads as a
// rollback failure.
const (
	VerdictPass    = "pass"
	VerdictFail    = "fail"
	VerdictSkipped = "skipped"
)

// Duration is a time.Duration that marshals as a JSON number of seconds with
// millisecond precision (4.213), because reports are read by people and by
// dashboards, and neither wants nanosecond integers.
type Duration time.Duration

// MarshalJSON writes d as seconds, rounded to the millisecond.
func (d Duration) MarshalJSON() ([]byte, error) {
	ms := time.Duration(d).Round(time.Millisecond).Milliseconds()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

// UnmarshalJSON reads seconds back, rounded to the millisecond so that a
// marshal/unmarshal round trip is exact. JSON null leaves d unchanged, as
// encoding/json does for built-in types.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("duration %s: want a number of seconds", b)
	}
	ms := math.Round(secs * 1000)
	if math.Abs(ms) > float64(math.MaxInt64/int64(time.Millisecond)) {
		return fmt.Errorf("duration %s: out of range", b)
	}
	*d = Duration(time.Duration(ms) * time.Millisecond)
	return nil
}

// String formats d like time.Duration rounded to the millisecond, the
// precision reports are kept at, for logs, messages and rendered reports.
func (d Duration) String() string { return time.Duration(d).Round(time.Millisecond).String() }

// Evidence is one fact the rollback machinery shows for its decision or
// actuation: a digest, a selector flip, a Rollout condition.
type Evidence struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Event is one timestamped entry of a drill's Timeline. Offset repeats At
// relative to the drill start t0 so that readers need not do clock math.
// Marks that MTTR is computed from carry their Bound.
type Event struct {
	Name   string    `json:"name"`
	At     time.Time `json:"at"`
	Offset Duration  `json:"offset"`
	Detail string    `json:"detail,omitempty"`
	Bound  *Bound    `json:"bound,omitempty"`
}

// PhaseNames name the MTTR phases in timeline order, as MTTR.Longest
// names them.
var PhaseNames = [4]string{"detect", "decide", "actuate", "recover"}

// Phases splits MTTR into where the time went: from onset to detection, to
// the machinery's decision, to its actuation, and to restored service.
type Phases struct {
	Detect  Duration `json:"detect"`
	Decide  Duration `json:"decide"`
	Actuate Duration `json:"actuate"`
	Recover Duration `json:"recover"`
}

// MTTR is restored minus onset with its phase split, its error bound and
// the budget it was judged against. The true MTTR is in [Total-Minus,
// Total+Plus]: Minus and Plus combine the bounds of the onset and restored
// marks (see the timeline's bounds). OnsetFrom says which instant MTTR
// starts at: the fault's injection, or the first failed user request for a
// fault the canary carries. NotSeenByUsers is set when the SLO never broke,
// so there is no detection time: the detect phase is then not a measurement.
type MTTR struct {
	Total          Duration `json:"total"`
	Phases         Phases   `json:"phases"`
	Minus          Duration `json:"boundMinus"`
	Plus           Duration `json:"boundPlus"`
	Budget         Duration `json:"budget"`
	Longest        string   `json:"longestPhase"`
	OnsetFrom      string   `json:"onsetFrom,omitempty"`
	NotSeenByUsers bool     `json:"notSeenByUsers,omitempty"`
}

// BoundText prints the bound as people read it: "(−0.020/+1.600 s)", or
// "± 0.020 s" when both sides are equal.
func (m MTTR) BoundText() string {
	if m.Minus == m.Plus {
		return "± " + fmtSeconds(m.Minus, 3) + " s"
	}
	return "(−" + fmtSeconds(m.Minus, 3) + "/+" + fmtSeconds(m.Plus, 3) + " s)"
}

// Bound is how far the true instant of a timeline mark may lie from the
// recorded one: in [At-Before, At+After]; How says how it was measured.
type Bound struct {
	Before Duration `json:"before"`
	After  Duration `json:"after"`
	How    string   `json:"how,omitempty"`
}

// ErrorBudget is the user-visible cost of the drill: failed requests between
// onset and restored, as a count and as a fraction of all requests.
type ErrorBudget struct {
	Failed   int     `json:"failed"`
	Total    int     `json:"total"`
	Fraction float64 `json:"fraction"`
}

// ObserverStats summarizes the traffic the observer sent, so a reader can
// judge how finely the drill was watched.
type ObserverStats struct {
	RateHz   float64  `json:"rateHz"`
	Requests int      `json:"requests"`
	Failures int      `json:"failures"`
	P50      Duration `json:"p50"`
	P90      Duration `json:"p90"`
	P99      Duration `json:"p99"`
	// Before, During and After split the traffic at the fault window:
	// before onset, from onset to restored, and after restored.
	Before LatencyStats `json:"before"`
	During LatencyStats `json:"during"`
	After  LatencyStats `json:"after"`
}

// LatencyStats summarizes the requests of one span of a drill.
type LatencyStats struct {
	Requests int      `json:"requests"`
	Failures int      `json:"failures"`
	P50      Duration `json:"p50"`
	P90      Duration `json:"p90"`
	P99      Duration `json:"p99"`
}

// SeriesPoint is one bucket of observed traffic, so that the timeline chart
// can be drawn from the JSON alone. Offset is the bucket's start since t0.
type SeriesPoint struct {
	Offset       Duration `json:"offset"`
	Requests     int      `json:"requests"`
	Failures     int      `json:"failures"`
	SuccessRatio float64  `json:"successRatio"`
	P99          Duration `json:"p99"`
}

// FaultRecord is the bracket around one fault: when it was injected, when
// its effect was confirmed, and when it was recovered, or why it was skipped.
// ForcedCleanup marks a fault that did not recover on its own terms.
type FaultRecord struct {
	Name             string    `json:"name"`
	Kind             string    `json:"kind"`
	Backend          string    `json:"backend,omitempty"`
	Target           string    `json:"target,omitempty"`
	Injected         time.Time `json:"injected,omitzero"`
	Confirmed        time.Time `json:"confirmed,omitzero"`
	Recovered        time.Time `json:"recovered,omitzero"`
	InjectionLatency Duration  `json:"injectionLatency,omitempty"`
	Skipped          bool      `json:"skipped,omitempty"`
	SkipReason       string    `json:"skipReason,omitempty"`
	ForcedCleanup    bool      `json:"forcedCleanup,omitempty"`
	// ExpiresBy says what ends the fault by itself should the harness die
	// (a native fault's detached timer), or why nothing does.
	ExpiresBy string `json:"expiresBy,omitempty"`
}

// CalibrationRow is one outage of a calibration drill: its length and the
// share of requests it failed, what the drills' estimator measured, the
// error, and the bound it stated. Within says whether Injected lies in
// [Measured-Minus, Measured+Plus].
type CalibrationRow struct {
	RateHz   int      `json:"rateHz"`
	Injected Duration `json:"injected"`
	Ratio    float64  `json:"ratio"`
	Measured Duration `json:"measured"`
	Error    Duration `json:"error"`
	Minus    Duration `json:"boundMinus"`
	Plus     Duration `json:"boundPlus"`
	Failed   int      `json:"failed"`
	Within   bool     `json:"within"`
	Err      string   `json:"problem,omitempty"`
}

// ClusterInfo says where a drill ran. Kind is "kind" for a throwaway kind
// cluster or "existing" for a cluster reached through a kubeconfig context.
type ClusterInfo struct {
	Kind              string `json:"kind"`
	Name              string `json:"name,omitempty"`
	Context           string `json:"context,omitempty"`
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
}

// Report is the Result of one drill, serialized. DetectedBy names who
// detected the breach (the machinery, or "harness SLO monitor" when the
// scenario delegates detection) so that the report never over-credits the
// machinery. MTTR is nil when service was never restored.
type Report struct {
	Schema        string      `json:"schema"`
	Scenario      string      `json:"scenario"`
	Labels        []string    `json:"labels,omitempty"`
	DrillID       string      `json:"drillID"`
	Namespace     string      `json:"namespace"`
	Started       time.Time   `json:"started"`
	Finished      time.Time   `json:"finished"`
	Cluster       ClusterInfo `json:"cluster"`
	StableVersion string      `json:"stableVersion"`
	CanaryVersion string      `json:"canaryVersion"`
	Machinery     string      `json:"machinery"`
	// MachineryEvidence is the machinery's own record of its rollback.
	MachineryEvidence  []Evidence    `json:"machineryEvidence,omitempty"`
	DetectedBy         string        `json:"detectedBy,omitempty"`
	Faults             []FaultRecord `json:"faults"`
	Timeline           []Event       `json:"timeline"`
	MTTR               *MTTR         `json:"mttr,omitempty"`
	ErrorBudget        ErrorBudget   `json:"errorBudget"`
	Observer           ObserverStats `json:"observer"`
	Budget             Duration      `json:"budget"`
	SeriesBucket       Duration      `json:"seriesBucket,omitempty"`
	Series             []SeriesPoint `json:"series,omitempty"`
	ServedVersionAfter string        `json:"servedVersionAfter,omitempty"`
	// Calibration is the calibration table of a calibration drill.
	Calibration []CalibrationRow `json:"calibration,omitempty"`
	// Repeat numbers the run of a scenario repeated with -firedrill.repeat
	// (1-based); 0 when it ran once.
	Repeat int `json:"repeat,omitempty"`
	// Concurrent is the most drills of the same run seen running beside
	// this one, so a reader knows how loaded the harness host was.
	Concurrent int `json:"concurrentDrills,omitempty"`
	// StoppedBy is the stop condition that aborted the drill, if one did.
	StoppedBy string   `json:"stoppedBy,omitempty"`
	Verdict   string   `json:"verdict"`
	Reason    string   `json:"reason,omitempty"`
	Artifacts []string `json:"artifacts,omitempty"`
	// Audit summarises the drill's audit log.
	Audit *AuditSummary `json:"audit,omitempty"`
	// BadVersionShare is how many user requests the new version answered
	// from injection to restored.
	BadVersionShare *Share `json:"badVersionShare,omitempty"`
	// Pods is the app's pods when the canary started and at most until
	// restored: what the rollback cost in pods.
	Pods *PodCount `json:"pods,omitempty"`
}

// Share is how many of Total requests Served counts.
type Share struct {
	Served   int     `json:"served"`
	Total    int     `json:"total"`
	Fraction float64 `json:"fraction"`
}

// PodCount is a drill's app pods (terminating ones included) when the
// canary started, and the most at once until service was restored.
type PodCount struct {
	AtCanary int `json:"atCanary"`
	Peak     int `json:"peak"`
}

// AuditSummary is where a drill's audit log is and what it held when the
// report was written: the writes firedrill made, and the changes a watch
// saw others make. The file itself also holds the cleanup's deletes.
type AuditSummary struct {
	Path    string `json:"path"`
	Writes  int    `json:"writes"`
	Watched int    `json:"watched"`
}

// Event returns the first timeline event called name. The first one is the
// one that counts for MTTR: a second "detected" during flapping does not
// move detection.
func (r *Report) Event(name string) (Event, bool) {
	for _, e := range r.Timeline {
		if e.Name == name {
			return e, true
		}
	}
	return Event{}, false
}

// Line is the drill in one line, for the suite's progress as each drill
// finishes: verdict, MTTR against budget, wall time.
func (r *Report) Line(wall time.Duration) string {
	mttr := "no MTTR"
	if r.MTTR != nil {
		mttr = "MTTR " + fmtSeconds(r.MTTR.Total, 2) + " s " + r.MTTR.BoundText()
	}
	line := fmt.Sprintf("drill %s %s: %s, %s of %s s budget, wall %.1f s", r.Scenario, r.DrillID, verdictOf(r), mttr, budgetSeconds(r.Budget), wall.Seconds())
	if r.Concurrent > 0 {
		line += fmt.Sprintf(", beside %d other drill(s)", r.Concurrent)
	}
	if verdictOf(r) != VerdictPass && r.Reason != "" {
		line += ": " + r.Reason
	}
	return line
}
