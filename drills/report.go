package drills

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Report builds the drill's report. failure is the reason the drill failed
// when its caller (a spec) saw it fail, else "".
func (d *Drill) Report(failure string) *reports.Report {
	d.mu.Lock()
	timeline := append([]reports.Event(nil), d.timeline...)
	d.mu.Unlock()
	// Events are recorded when known, not always in order (detected is
	// computed after the rollback), so the report orders them by time.
	sort.SliceStable(timeline, func(i, j int) bool { return timeline[i].At.Before(timeline[j].At) })
	res := d.resultCopy()
	r := &reports.Report{
		Schema: reports.SchemaVersion, Scenario: d.Scenario.Name, Labels: d.Scenario.Labels,
		DrillID: d.ID, Namespace: d.Namespace, Started: d.t0, Finished: time.Now(),
		Cluster: reports.ClusterInfo{
			Kind: d.cluster.Kind, Name: d.cluster.Name, Context: d.cluster.Context,
			KubernetesVersion: d.cluster.Version,
		},
		StableVersion: d.Scenario.Stable.Name, CanaryVersion: d.Scenario.Canary.Name,
		Machinery: d.machinery.Name(), DetectedBy: res.DetectedBy,
		MachineryEvidence: append(evidence(res), d.afterDecision()...),
		Timeline:          timeline, MTTR: res.MTTR, ErrorBudget: res.ErrorBudget,
		Observer:           d.observerStats(),
		Budget:             reports.Duration(d.Scenario.Budget),
		SeriesBucket:       reports.Duration(SeriesBucket),
		Series:             Series(d.observer.Samples(), d.t0, SeriesBucket),
		ServedVersionAfter: res.ServedAfter,
		Faults:             d.faultRecords(),
		Repeat:             d.opts.Repeat,
		Concurrent:         d.concurrent,
		BadVersionShare:    res.BadShare,
		Pods:               res.Pods,
		StoppedBy:          d.StoppedBy(),
	}
	if res.Calibration != nil {
		r.Calibration = res.Calibration.Rows
	}
	r.Verdict, r.Reason = d.verdict(res, failure)
	return r
}

// verdict is the drill's one verdict: skipped, the failure its caller saw,
// or what the result was judged (Judge) once it was complete.
func (d *Drill) verdict(res Result, failure string) (string, string) {
	if skip := d.SkipReason(); skip != "" {
		return reports.VerdictSkipped, skip
	}
	if why := d.StoppedBy(); why != "" {
		return reports.VerdictFail, "stopped by a stop condition: " + why
	}
	if failure != "" {
		return reports.VerdictFail, failure
	}
	return Judge(res, d.Scenario, d.machinery.Name())
}

// evidence is the machinery's own record, for the report.
func evidence(res Result) []reports.Evidence {
	var out []reports.Evidence
	for _, e := range res.Evidence {
		out = append(out, reports.Evidence{Name: e.Name, Value: e.Value})
	}
	if len(res.Serving.Versions) > 0 || res.Serving.Detail != "" {
		out = append(out, reports.Evidence{Name: "serving after restore", Value: res.Serving.Detail})
	}
	if res.Unseen != "" {
		out = append(out, reports.Evidence{Name: "canary seen by users", Value: res.Unseen})
	}
	if res.Dark != "" {
		out = append(out, reports.Evidence{Name: "canary while the fault lasted", Value: res.Dark})
	}
	return out
}

// surgeWindow is how long after the decision the report shows traffic, so
// that a surge the rollback itself causes (a flag flip, a restart
// stampede) is visible beside the ten seconds before.
const surgeWindow = 10 * time.Second

// afterDecision is the traffic the observer saw in the surgeWindow before
// and after the machinery decided, or nothing when it never did.
func (d *Drill) afterDecision() []reports.Evidence {
	decided, ok := d.event(EventDecided)
	if !ok {
		return nil
	}
	samples := d.observer.Samples()
	span := fmt.Sprintf("%.0f s", surgeWindow.Seconds())
	return []reports.Evidence{
		{Name: "traffic in the " + span + " before the decision", Value: trafficIn(samples, decided.Add(-surgeWindow), decided)},
		{Name: "traffic in the " + span + " after the decision", Value: trafficIn(samples, decided, decided.Add(surgeWindow))},
	}
}

// trafficIn says what the requests that arrived in [from, to] saw: their
// rate over the part of the span the observer ran, the failures, and the
// latency.
func trafficIn(samples []Sample, from, to time.Time) string {
	n, failed := 0, 0
	var first, last time.Time
	for _, s := range samples {
		if !inSpan(s, from, to) {
			continue
		}
		if first.IsZero() {
			first = s.At
		}
		last = s.At
		n++
		if s.Failed() {
			failed++
		}
	}
	if n < 2 {
		return fmt.Sprintf("%d request(s) observed", n)
	}
	p50, _, p99 := Percentiles(samples, from, to)
	return fmt.Sprintf("%.1f req/s over %.1f s, %d failed, latency p50 %s p99 %s", float64(n-1)/last.Sub(first).Seconds(),
		last.Sub(first).Seconds(), failed, p50.Round(time.Millisecond), p99.Round(time.Millisecond))
}

// faultRecords lists the injected faults, or the canary-borne fault.
func (d *Drill) faultRecords() []reports.FaultRecord {
	if len(d.planned) == 0 {
		return []reports.FaultRecord{d.faultRecord()}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	recs := make([]reports.FaultRecord, 0, len(d.planned))
	for _, p := range d.planned {
		recs = append(recs, p.record)
	}
	return recs
}

func (d *Drill) faultRecord() reports.FaultRecord {
	f := reports.FaultRecord{Name: d.Scenario.Fault.Kind, Kind: d.Scenario.Fault.Kind, Backend: "canary-env", Target: "canary"}
	f.Injected, _ = d.event(EventCanaryStarted)
	f.Confirmed, _ = d.event(EventOnset)
	f.Recovered, _ = d.event(EventActuated)
	if !f.Injected.IsZero() && !f.Confirmed.IsZero() {
		f.InjectionLatency = reports.Duration(f.Confirmed.Sub(f.Injected))
	}
	return f
}

func (d *Drill) observerStats() reports.ObserverStats {
	samples := d.observer.Samples()
	st := reports.ObserverStats{RateHz: float64(d.Scenario.Rate), Requests: len(samples)}
	for _, s := range samples {
		if s.Failed() {
			st.Failures++
		}
	}
	p50, p90, p99 := Percentiles(samples, time.Time{}, time.Time{})
	st.P50, st.P90, st.P99 = reports.Duration(p50), reports.Duration(p90), reports.Duration(p99)
	onset, _ := d.event(EventOnset)
	restored, _ := d.event(EventRestored)
	steadyAt, _ := d.event(EventSteadyState)
	if !onset.IsZero() {
		st.Before = SpanStats(samples, steadyAt, onset)
		st.During = SpanStats(samples, onset, restored)
	}
	if !restored.IsZero() {
		st.After = SpanStats(samples, restored, time.Time{})
	}
	return st
}

// WriteReport writes the JSON report and the observer's samples under the
// run directory; when the drill failed it first keeps the cluster evidence.
func (d *Drill) WriteReport(ctx context.Context, failure string) (string, error) {
	if err := mkdir(d.evidenceDir()); err != nil {
		return "", err
	}
	var evidence []string
	if (failure != "" || d.Report(failure).Verdict == reports.VerdictFail) && !d.t0.IsZero() {
		evidence = d.writeEvidence(ctx)
	}
	// Faults are removed after the evidence is kept and before the report
	// is written, so the report says when and how they were recovered.
	if err := d.recoverFaults(ctx); err != nil && failure == "" {
		failure = err.Error()
	}
	r := d.Report(failure)
	r.Audit = d.writeAudit()
	r.Artifacts = append(append(r.Artifacts, d.writeSamples()), evidence...)
	if r.Audit != nil {
		r.Artifacts = append(r.Artifacts, filepath.Join(d.reportDir(), r.Audit.Path))
	}
	return reports.WriteJSON(d.reportDir(), r)
}

// writeSamples keeps every observed request as CSV; it returns the path.
func (d *Drill) writeSamples() string {
	path := filepath.Join(d.evidenceDir(), "samples.csv")
	f, err := os.Create(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write([]string{"offset_s", "status", "latency_ms", "version", "error"})
	for _, s := range d.observer.Samples() {
		_ = w.Write([]string{
			strconv.FormatFloat(s.At.Sub(d.t0).Seconds(), 'f', 3, 64), strconv.Itoa(s.Status),
			strconv.FormatFloat(float64(s.Latency)/float64(time.Millisecond), 'f', 2, 64), s.Version, s.Err,
		})
	}
	w.Flush()
	return path
}

// writeEvidence dumps pods, deployments and events of the drill namespace,
// before anything is deleted.
func (d *Drill) writeEvidence(ctx context.Context) []string {
	c, ns := d.cluster.Client, d.Namespace
	dumps := map[string]func() (any, error){
		"pods.json":        func() (any, error) { return c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}) },
		"deployments.json": func() (any, error) { return c.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}) },
		"events.json":      func() (any, error) { return c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}) },
	}
	if w, ok := d.machinery.(rollback.Witness); ok {
		for name, obj := range w.Objects(ctx) {
			dumps[name] = func() (any, error) { return obj, nil }
		}
	}
	var paths []string
	for name, get := range dumps {
		obj, err := get()
		if err != nil {
			obj = map[string]string{"error": err.Error()}
		}
		raw, _ := json.MarshalIndent(obj, "", "  ")
		path := filepath.Join(d.evidenceDir(), name)
		if os.WriteFile(path, raw, 0o644) == nil {
			paths = append(paths, path)
		}
	}
	return paths
}
