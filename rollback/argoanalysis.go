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
	var st analysisRunStatus
	if raw, ok := run.Object["status"]; ok {
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

// runWatch watches the drill's AnalysisRuns and keeps the first bad
// measurement it sees.
type runWatch struct {
	dyn dynamic.Interface
	ns  string

	mu    sync.Mutex
	first badMeasurement
}

func newRunWatch(dyn dynamic.Interface, ns string) *runWatch { return &runWatch{dyn: dyn, ns: ns} }

// watch runs until ctx ends.
func (w *runWatch) watch(ctx context.Context) {
	_, _ = kube.WaitObjects(ctx, w.dyn, analysisRunsGVR, w.ns, "", func(runs []*unstructured.Unstructured) (bool, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.first.seen.IsZero() {
			return false, nil
		}
		if b, ok := firstBad(runs); ok {
			b.seen = time.Now()
			w.first = b
		}
		return false, nil
	})
}

// firstBad finds the earliest-started bad measurement among runs.
func firstBad(runs []*unstructured.Unstructured) (badMeasurement, bool) {
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
	if len(found) == 0 {
		return badMeasurement{}, false
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].StartedAt < found[j].StartedAt })
	return found[0], true
}

func (w *runWatch) firstBad() badMeasurement {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
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
