package rollback

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// Measurement phases of an AnalysisRun that count against the canary: a
// failed measurement, or one that could not be taken (an error).
const (
	measurementFailed = "Failed"
	measurementError  = "Error"
)

// analysisRunStatus is the part of an AnalysisRun's status the machinery
// reads: each metric's measurements.
type analysisRunStatus struct {
	Phase         string `json:"phase"`
	Message       string `json:"message"`
	MetricResults []struct {
		Name         string        `json:"name"`
		Phase        string        `json:"phase"`
		Measurements []measurement `json:"measurements"`
	} `json:"metricResults"`
}

type measurement struct {
	Phase      string `json:"phase"`
	Value      string `json:"value"`
	Message    string `json:"message"`
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
}

func analysisRunStatusOf(run *unstructured.Unstructured) analysisRunStatus {
	return statusOf[analysisRunStatus](run)
}

// statusOf decodes the part of an Argo object's status that T names; a
// status that does not decode reads as empty, as a controller that has not
// written it yet.
func statusOf[T any](obj *unstructured.Unstructured) T {
	var st T
	if raw, ok := obj.Object["status"]; ok {
		if b, err := json.Marshal(raw); err == nil {
			_ = json.Unmarshal(b, &st)
		}
	}
	return st
}

// badMeasurement is the first measurement that went against the canary, as
// the harness's watch first saw it.
type badMeasurement struct {
	seen        time.Time
	run, metric string
	measurement
}

// String says what failed and when, in Argo's words and the watch's.
func (b badMeasurement) String() string {
	if b.seen.IsZero() {
		return "none: no measurement failed or errored"
	}
	s := fmt.Sprintf("%s %s in AnalysisRun %s (value %q, started %s, finished %s; seen by the watch at %s)",
		b.metric, b.Phase, b.run, b.Value, b.StartedAt, b.FinishedAt, b.seen.UTC().Format("15:04:05.000"))
	if b.Message != "" {
		s += ": " + b.Message
	}
	return s
}

// finishedBefore is how long before the watch saw it the measurement may
// have finished: Argo's finishedAt has 1 s resolution, so up to a second
// more than the difference.
func (b badMeasurement) finishedBefore() time.Duration {
	at, err := time.Parse(time.RFC3339, b.FinishedAt)
	if err != nil || b.seen.IsZero() {
		return 0
	}
	return max(b.seen.Sub(at), 0) + time.Second
}

// runWatch watches the drill's AnalysisRuns and keeps the instant it first
// saw each bad measurement.
type runWatch struct {
	dyn dynamic.Interface
	ns  string

	mu   sync.Mutex
	seen map[string]time.Time
	runs []*unstructured.Unstructured
}

func newRunWatch(dyn dynamic.Interface, ns string) *runWatch {
	return &runWatch{dyn: dyn, ns: ns, seen: map[string]time.Time{}}
}

// key names one measurement of one metric of one run.
func (b badMeasurement) key() string { return b.run + "/" + b.metric + "/" + b.StartedAt }

// watch runs until ctx ends.
func (w *runWatch) watch(ctx context.Context) {
	_, _ = kube.WaitObjects(ctx, w.dyn, analysisRunsGVR, w.ns, "", func(runs []*unstructured.Unstructured) (bool, error) {
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.runs = runs
		for _, b := range badMeasurements(runs) {
			if _, ok := w.seen[b.key()]; !ok {
				w.seen[b.key()] = now
			}
		}
		return false, nil
	})
}

// badMeasurements lists every failed or errored measurement of runs.
func badMeasurements(runs []*unstructured.Unstructured) []badMeasurement {
	var found []badMeasurement
	for _, run := range runs {
		for _, m := range analysisRunStatusOf(run).MetricResults {
			for _, ms := range m.Measurements {
				if ms.Phase == measurementFailed || ms.Phase == measurementError {
					found = append(found, badMeasurement{run: run.GetName(), metric: m.Name, measurement: ms})
				}
			}
		}
	}
	return found
}

// decisive finds the measurement that started the analysis's verdict: the
// earliest failed measurement, or, when none failed, the first error of
// the last unbroken run of errors of a metric (consecutiveErrorLimit
// counts those). An error at the start, before the canary had data, that
// a good measurement followed, is not the detection.
func decisive(runs []*unstructured.Unstructured) (badMeasurement, bool) {
	var failed, errored []badMeasurement
	for _, run := range runs {
		for _, m := range analysisRunStatusOf(run).MetricResults {
			streak := -1
			for i, ms := range m.Measurements {
				switch {
				case ms.Phase == measurementFailed:
					failed = append(failed, badMeasurement{run: run.GetName(), metric: m.Name, measurement: ms})
				case ms.Phase == measurementError && streak < 0:
					streak = i
				case ms.Phase != measurementError:
					streak = -1
				}
			}
			if streak >= 0 {
				errored = append(errored, badMeasurement{run: run.GetName(), metric: m.Name, measurement: m.Measurements[streak]})
			}
		}
	}
	for _, list := range [][]badMeasurement{failed, errored} {
		if len(list) > 0 {
			sort.SliceStable(list, func(i, j int) bool { return list[i].StartedAt < list[j].StartedAt })
			return list[0], true
		}
	}
	return badMeasurement{}, false
}

// firstBad is the decisive measurement of the runs last seen, with the
// instant the watch first saw it.
func (w *runWatch) firstBad() badMeasurement {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := decisive(w.runs)
	if ok {
		b.seen = w.seen[b.key()]
	}
	return b
}

// evidence lists every AnalysisRun with its phase and each metric's
// measurements, for the report.
func (w *runWatch) evidence(ctx context.Context) []Evidence {
	list, err := w.dyn.Resource(analysisRunsGVR).Namespace(w.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []Evidence{{Name: "analysis runs", Value: "could not list: " + err.Error()}}
	}
	var out []Evidence
	for _, run := range list.Items {
		st := analysisRunStatusOf(&run)
		out = append(out, Evidence{Name: "AnalysisRun " + run.GetName(), Value: st.Phase + " " + st.Message})
		for _, m := range st.MetricResults {
			value := ""
			for _, ms := range m.Measurements {
				value += fmt.Sprintf("%s %s→%s %s %s; ", ms.Phase, clock(ms.StartedAt), clock(ms.FinishedAt), ms.Value, ms.Message)
			}
			out = append(out, Evidence{Name: fmt.Sprintf("metric %s (%s)", m.Name, m.Phase), Value: value})
		}
	}
	return out
}

// clock shortens an RFC 3339 timestamp to its time of day.
func clock(ts string) string {
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return ts
	}
	return at.UTC().Format(time.TimeOnly)
}

// Preflight implements Preflighter: the controller must be there, and every
// Prometheus query of the configuration must parse on the server the drill
// uses, with firedrill's args filled in. It writes nothing.
func (a *argoRollouts) Preflight(ctx context.Context) error {
	if err := CheckArgoRollouts(ctx, a.w.env.Client, a.w.env.Dynamic); err != nil {
		return err
	}
	for _, t := range a.cfg.templates {
		if err := a.checkQueries(ctx, t); err != nil {
			return fmt.Errorf("%s: AnalysisTemplate %s: %w", a.cfg.name, t.GetName(), err)
		}
	}
	return nil
}

// argRef is how an AnalysisTemplate refers to an arg.
var argRef = regexp.MustCompile(`\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}`)

// checkQueries asks Prometheus to evaluate each Prometheus metric's query
// once, which refuses a query that does not parse with the position.
func (a *argoRollouts) checkQueries(ctx context.Context, t *unstructured.Unstructured) error {
	values := templateArgs(t)
	maps.Copy(values, a.args())
	metrics, _, _ := unstructured.NestedSlice(t.Object, "spec", "metrics")
	for _, m := range metrics {
		metric, _ := m.(map[string]any)
		prom, ok, _ := unstructured.NestedMap(metric, "provider", "prometheus")
		if !ok {
			continue
		}
		address, _ := prom["address"].(string)
		query, _ := prom["query"].(string)
		if fill(address, values) != a.w.env.Prometheus.URL() {
			a.logf("metric %s queries %s, not the drill's Prometheus: its query is not checked", metric["name"], address)
			continue
		}
		filled := fill(query, values)
		if refs := argRef.FindAllStringSubmatch(filled, -1); len(refs) > 0 {
			return fmt.Errorf("metric %s: the query uses {{args.%s}}, which neither firedrill nor the template sets", metric["name"], refs[0][1])
		}
		if _, err := a.w.env.Prometheus.Query(ctx, a.w.env.Client, filled); err != nil {
			return fmt.Errorf("metric %s: bad query: %s", metric["name"], oneLine(err))
		}
	}
	return nil
}

// templateArgs are the values a template's own spec.args set.
func templateArgs(t *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	args, _, _ := unstructured.NestedSlice(t.Object, "spec", "args")
	for _, arg := range args {
		m, _ := arg.(map[string]any)
		if v, ok := m["value"].(string); ok {
			out[fmt.Sprint(m["name"])] = v
		}
	}
	return out
}

// fill replaces each {{args.name}} that values names.
func fill(s string, values map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := values[argRef.FindStringSubmatch(ref)[1]]; ok {
			return v
		}
		return ref
	})
}

// Assess implements Assessor. The new version is healthy in Argo's eyes
// while no AnalysisRun failed, errored or was inconclusive and the latest
// measurement of every metric succeeded. The Rollout is settled once it
// stalled (Degraded, not aborted: the progress deadline passed) or waits
// at a pause without a duration for someone to promote it.
func (a *argoRollouts) Assess(ctx context.Context) (Assessment, error) {
	ro, err := a.rollouts().Get(ctx, App, metav1.GetOptions{})
	if err != nil {
		return Assessment{}, fmt.Errorf("read the Rollout: %w", err)
	}
	runs, err := a.w.env.Dynamic.Resource(analysisRunsGVR).Namespace(a.w.env.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Assessment{}, fmt.Errorf("list analysis runs: %w", err)
	}
	st := rolloutStatusOf(ro)
	out := Assessment{Healthy: len(runs.Items) > 0, Settled: settled(ro, st), Detail: "Rollout " + st.describe()}
	for _, run := range runs.Items {
		healthy, detail := assessRun(&run)
		out.Healthy = out.Healthy && healthy
		out.Detail += "; " + detail
	}
	return out, nil
}

// assessRun says whether a run passes the canary now, with its counts.
func assessRun(run *unstructured.Unstructured) (bool, string) {
	st := analysisRunStatusOf(run)
	healthy := st.Phase != "Failed" && st.Phase != "Error" && st.Phase != "Inconclusive"
	counts := map[string]int{}
	for _, m := range st.MetricResults {
		n := len(m.Measurements)
		if n == 0 || m.Measurements[n-1].Phase != "Successful" {
			healthy = false
		}
		for _, ms := range m.Measurements {
			counts[ms.Phase]++
		}
	}
	return healthy, fmt.Sprintf("AnalysisRun %s %s: %d Successful, %d Failed, %d Error measurement(s)",
		run.GetName(), st.Phase, counts["Successful"], counts[measurementFailed], counts[measurementError])
}

// settled holds when the Rollout will not move by itself: stalled, or at
// an indefinite pause.
func settled(ro *unstructured.Unstructured, st rolloutStatus) bool {
	if st.Phase == "Degraded" && !st.aborted() {
		return true
	}
	if st.Phase != "Paused" {
		return false
	}
	steps, _, _ := unstructured.NestedSlice(ro.Object, "spec", "strategy", "canary", "steps")
	i, found, _ := unstructured.NestedInt64(ro.Object, "status", "currentStepIndex")
	if !found || i < 0 || int(i) >= len(steps) {
		return false
	}
	step, _ := steps[i].(map[string]any)
	pause, ok := step["pause"].(map[string]any)
	_, timed := pause["duration"]
	return ok && !timed
}

// Objects implements Witness: the Rollout, its templates and its runs.
func (a *argoRollouts) Objects(ctx context.Context) map[string]any {
	out := map[string]any{}
	for file, gvr := range map[string]schema.GroupVersionResource{
		"rollouts.json": rolloutsGVR, "analysistemplates.json": analysisTemplatesGVR, "analysisruns.json": analysisRunsGVR,
	} {
		list, err := a.w.env.Dynamic.Resource(gvr).Namespace(a.w.env.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			out[file] = map[string]string{"error": err.Error()}
			continue
		}
		out[file] = list
	}
	return out
}
