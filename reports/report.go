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
type Event struct {
	Name   string    `json:"name"`
	At     time.Time `json:"at"`
	Offset Duration  `json:"offset"`
	Detail string    `json:"detail,omitempty"`
}

// Phases splits MTTR into where the time went: from onset to detection, to
// the machinery's decision, to its actuation, and to restored service.
type Phases struct {
	Detect  Duration `json:"detect"`
	Decide  Duration `json:"decide"`
	Actuate Duration `json:"actuate"`
	Recover Duration `json:"recover"`
}

// MTTR is restored minus onset with its phase split, its error bound (one
// observer interval, since neither end is observed more finely) and the
// budget it was judged against.
type MTTR struct {
	Total      Duration `json:"total"`
	Phases     Phases   `json:"phases"`
	ErrorBound Duration `json:"errorBound"`
	Budget     Duration `json:"budget"`
	Longest    string   `json:"longestPhase"`
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
	Verdict            string        `json:"verdict"`
	Reason             string        `json:"reason,omitempty"`
	Artifacts          []string      `json:"artifacts,omitempty"`
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
