package rollback

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// ArgoRollouts is the machinery name of Argo Rollouts' canary.
const ArgoRollouts = "argo-rollouts"

// DetectAnalysis leaves detection to the machinery's own analysis: for
// argo-rollouts, its AnalysisRuns.
const DetectAnalysis Detection = "analysis"

// DetectedByAnalysis is how a report labels detection by Argo's analysis.
const DetectedByAnalysis = "argo-rollouts analysis"

// Backends a machinery may need installed in the cluster (Spec.Needs).
const (
	BackendArgoRollouts = "argo-rollouts"
	BackendPrometheus   = "prometheus"
)

// The Argo Rollouts resources the machinery reads and writes.
var (
	rolloutsGVR          = argoGVR("rollouts")
	analysisTemplatesGVR = argoGVR("analysistemplates")
	analysisRunsGVR      = argoGVR("analysisruns")
)

func argoGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: resource}
}

// Names of the canary strategy's Services, which Argo points at the canary
// and the stable ReplicaSet by rollouts-pod-template-hash.
var (
	argoCanaryService = ownName("canary")
	argoStableService = ownName("stable")
)

// argoHashLabel is the label Argo puts on each ReplicaSet's pods and Service
// selectors.
const argoHashLabel = "rollouts-pod-template-hash"

func init() {
	Register(Spec{
		Name:    ArgoRollouts,
		Summary: "an Argo Rollouts canary (replica-weighted steps) with background analysis from Prometheus; the controller aborts it",
		Needs:   []string{BackendArgoRollouts, BackendPrometheus},
		Check: func(p Plan) error {
			if p.Canary.Replicas != 0 {
				return fmt.Errorf("canary.replicas %d: Argo sizes the canary from its setWeight steps; leave it 0", p.Canary.Replicas)
			}
			if err := checkDetection(p.Detection, DetectAnalysis, DetectHarness); err != nil {
				return err
			}
			_, err := parseArgoConfig(p.Config)
			return err
		},
		New: func(e Env, p Plan) (Machinery, error) {
			if e.Dynamic == nil {
				return nil, errors.New("argo-rollouts machinery: dynamic client is nil")
			}
			cfg, err := parseArgoConfig(p.Config)
			if err != nil {
				return nil, err
			}
			return &argoRollouts{base: newBase(ArgoRollouts, e), stable: p.Stable, canary: p.Canary, cfg: cfg}, nil
		},
	})
}

// argoRollouts is the canary as Argo Rollouts runs it: one Rollout whose
// canary strategy scales a canary ReplicaSet by setWeight steps (replica
// weighted: kind has no traffic router), with the configured analysis
// running in the background. The controller decides and acts; firedrill
// only watches.
//
// Detected is the first failed (or errored) AnalysisRun measurement, as the
// harness's watch sees it. Decided is the watch seeing status.abort or
// abortedAt. Actuated is all of: the canary ReplicaSet at zero, the stable
// ReplicaSet fully available, the Rollout Degraded with RolloutAborted, and
// the canary and stable Services selecting the stable hash. When the
// controller promotes the canary instead, AwaitRollback returns an Outcome
// with Promoted set.
type argoRollouts struct {
	base
	stable, canary Version
	cfg            argoConfig
	// stableHash is the stable ReplicaSet's pod-template hash once
	// DeployStable returns.
	stableHash string
	started    bool
}

func (a *argoRollouts) Name() string { return ArgoRollouts }

func (a *argoRollouts) logf(format string, args ...any) { a.w.logf(ArgoRollouts, format, args...) }

func (a *argoRollouts) rollouts() dynamic.ResourceInterface {
	return a.w.env.Dynamic.Resource(rolloutsGVR).Namespace(a.w.env.Namespace)
}

func (a *argoRollouts) Placement() Placement {
	return placement(where(versionLabels(a.stable.Name), ""), where(versionLabels(a.canary.Name), ""))
}

func (a *argoRollouts) DeployStable(ctx context.Context, stable Version) error {
	app := map[string]string{LabelApp: App}
	if err := a.w.setUp(ctx, app); err != nil {
		return err
	}
	for _, name := range []string{argoCanaryService, argoStableService} {
		if _, err := a.w.env.Client.CoreV1().Services(a.w.env.Namespace).Create(ctx, a.w.service(name, app), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create service %s: %w", name, err)
		}
	}
	if err := a.createTemplates(ctx); err != nil {
		return err
	}
	ro, err := a.rollout(stable)
	if err != nil {
		return err
	}
	if _, err := a.rollouts().Create(ctx, ro, strictCreate); err != nil {
		return fmt.Errorf("%s: create Rollout: %w", a.cfg.name, err)
	}
	a.logf("waiting for the Rollout's %d stable pod(s) of %s", stable.Replicas, stable.Name)
	_, err = a.waitRollout(ctx, func(ro *unstructured.Unstructured) bool {
		st := rolloutStatusOf(ro)
		a.stableHash = st.StableRS
		return st.healthy() && st.AvailableReplicas == int64(stable.Replicas) && st.StableRS == st.CurrentPodHash
	})
	if err != nil {
		return fmt.Errorf("wait for the Rollout to be Healthy on %s: %w", stable.Name, err)
	}
	a.logf("stable %s runs as ReplicaSet hash %s", stable.Name, a.stableHash)
	return nil
}

// strictCreate makes the API server refuse an object with a field its
// schema does not know, so a typo in a team's file is an error naming the
// field rather than a setting silently dropped.
var strictCreate = metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}

// createTemplates creates the configuration's AnalysisTemplates in the
// drill namespace, labelled as the app.
func (a *argoRollouts) createTemplates(ctx context.Context) error {
	for _, t := range a.cfg.templates {
		t = t.DeepCopy()
		t.SetNamespace(a.w.env.Namespace)
		t.SetLabels(mergeLabels(t.GetLabels(), map[string]string{LabelApp: App}))
		res := a.w.env.Dynamic.Resource(analysisTemplatesGVR).Namespace(a.w.env.Namespace)
		if _, err := res.Create(ctx, t, strictCreate); err != nil {
			return fmt.Errorf("%s: AnalysisTemplate %s refused: %s", a.cfg.name, t.GetName(), oneLine(err))
		}
	}
	return nil
}

// rollout is the Rollout running stable, with the configured canary
// strategy, its Services, and firedrill's args on every analysis.
func (a *argoRollouts) rollout(stable Version) (*unstructured.Unstructured, error) {
	tmpl, err := a.podTemplate(stable, false)
	if err != nil {
		return nil, err
	}
	canary := runtime.DeepCopyJSONValue(a.cfg.canary).(map[string]any)
	canary["canaryService"], canary["stableService"] = argoCanaryService, argoStableService
	a.addArgs(canary)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": argoGroupVersion,
		"kind":       "Rollout",
		"metadata":   map[string]any{"name": App, "namespace": a.w.env.Namespace, "labels": map[string]any{LabelApp: App}},
		"spec": map[string]any{
			"replicas":                int64(stable.Replicas),
			"revisionHistoryLimit":    int64(2),
			"progressDeadlineSeconds": int64(a.w.env.ProgressDeadline.Seconds()),
			"selector":                map[string]any{"matchLabels": map[string]any{LabelApp: App}},
			"template":                tmpl,
			"strategy":                map[string]any{"canary": canary},
		},
	}}, nil
}

// podTemplate is the workload's pod template of v as unstructured JSON.
func (a *argoRollouts) podTemplate(v Version, canary bool) (map[string]any, error) {
	tmpl, err := a.w.template(v, map[string]string{LabelApp: App}, canary)
	if err != nil {
		return nil, err
	}
	out, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&tmpl)
	if err != nil {
		return nil, fmt.Errorf("pod template of %s: %w", v.Name, err)
	}
	unstructured.RemoveNestedField(out, "metadata", "creationTimestamp")
	return out, nil
}

// args are what firedrill tells every template: see the Arg constants.
func (a *argoRollouts) args() map[string]string {
	ns := a.w.env.Namespace
	return map[string]string{
		ArgNamespace:     ns,
		ArgCanaryVersion: a.canary.Name,
		ArgStableVersion: a.stable.Name,
		ArgPrometheus:    a.w.env.Prometheus.URL(),
		ArgCanaryURL:     fmt.Sprintf("http://%s.%s.svc", argoCanaryService, ns),
	}
}

// addArgs adds firedrill's args to the background analysis and to every
// analysis step; an arg the file sets itself is left as the file has it.
func (a *argoRollouts) addArgs(canary map[string]any) {
	add := func(analysis any) {
		m, ok := analysis.(map[string]any)
		if !ok {
			return
		}
		list, _ := m["args"].([]any)
		have := map[string]bool{}
		for _, arg := range list {
			if am, ok := arg.(map[string]any); ok {
				have[fmt.Sprint(am["name"])] = true
			}
		}
		for _, name := range sortedKeys(a.args()) {
			if !have[name] {
				list = append(list, map[string]any{"name": name, "value": a.args()[name]})
			}
		}
		m["args"] = list
	}
	add(canary["analysis"])
	steps, _ := canary["steps"].([]any)
	for _, s := range steps {
		if m, ok := s.(map[string]any); ok {
			add(m["analysis"])
		}
	}
}

func (a *argoRollouts) StartCanary(ctx context.Context, canary Version) error {
	tmpl, err := a.podTemplate(canary, true)
	if err != nil {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ro, err := a.rollouts().Get(ctx, App, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := unstructured.SetNestedField(ro.Object, tmpl, "spec", "template"); err != nil {
			return err
		}
		_, err = a.rollouts().Update(ctx, ro, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("update the Rollout to %s: %w", canary.Name, err)
	}
	a.started = true
	a.logf("Rollout updated to %s: the controller runs the canary steps and the analysis", canary.Name)
	return nil
}

// Serving reads the Rollout's ReplicaSets: a version serves while its
// ReplicaSet wants replicas. The detail adds the Rollout's phase and where
// its Services point.
func (a *argoRollouts) Serving(ctx context.Context) (Serving, error) {
	sets, err := a.w.env.Client.AppsV1().ReplicaSets(a.w.env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelApp + "=" + App})
	if err != nil {
		return Serving{}, fmt.Errorf("list replica sets: %w", err)
	}
	var s Serving
	for _, rs := range sets.Items {
		n := int32(0)
		if rs.Spec.Replicas != nil {
			n = *rs.Spec.Replicas
		}
		v := rs.Spec.Template.Labels[LabelVersion]
		s.Detail += fmt.Sprintf("%s (hash %s): %d replica(s); ", v, rs.Labels[argoHashLabel], n)
		if n > 0 && !s.Has(v) {
			s.Versions = append(s.Versions, v)
		}
	}
	ro, err := a.rollouts().Get(ctx, App, metav1.GetOptions{})
	if err != nil {
		return s, fmt.Errorf("read the Rollout: %w", err)
	}
	st := rolloutStatusOf(ro)
	s.Detail += fmt.Sprintf("Rollout %s, stable hash %s; %s", st.describe(), st.StableRS, a.selectors(ctx))
	return s, nil
}

// selectors says which hash each canary-strategy Service selects.
func (a *argoRollouts) selectors(ctx context.Context) string {
	var parts []string
	for _, name := range []string{argoCanaryService, argoStableService} {
		svc, err := a.w.env.Client.CoreV1().Services(a.w.env.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			parts = append(parts, name+": "+err.Error())
			continue
		}
		parts = append(parts, fmt.Sprintf("%s → %s", name, svc.Spec.Selector[argoHashLabel]))
	}
	return strings.Join(parts, ", ")
}

func (a *argoRollouts) AwaitRollback(ctx context.Context) (Outcome, error) {
	if a.w.env.Detection == DetectHarness {
		return a.abortOnAlert(ctx)
	}
	runs := newRunWatch(a.w.env.Dynamic, a.w.env.Namespace)
	go runs.watch(ctx)
	var st rolloutStatus
	decided, err := a.waitRollout(ctx, func(ro *unstructured.Unstructured) bool {
		st = rolloutStatusOf(ro)
		return st.aborted() || a.promoted(st)
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("wait for the controller to abort or promote: %w", err)
	}
	out := Outcome{DetectedBy: DetectedByAnalysis, Decided: decided}
	first := runs.firstBad()
	out.Detected, out.DetectedDetail, out.DetectedBefore = first.seen, first.String(), first.finishedBefore()
	out.Evidence = append(out.Evidence, Evidence{Name: "first failed measurement", Value: first.String()},
		Evidence{Name: "rollout at decision", Value: st.describe() + "; conditions: " + st.conditions()})
	if a.promoted(st) {
		out.Promoted = true
		out.Reason = fmt.Sprintf("the controller promoted %s: %s", a.canary.Name, st.describe())
		out.Evidence = append(out.Evidence, runs.evidence(ctx)...)
		a.logf("promoted at %s: %s", decided.Format(time.TimeOnly), out.Reason)
		return out, nil
	}
	out.Reason = "Rollout aborted: " + st.Message
	a.logf("aborted at %s: %s", decided.Format(time.TimeOnly), st.Message)
	return a.awaitAbort(ctx, out, runs)
}

// abortOnAlert is harness detection: the alert hook aborts the Rollout as
// `kubectl argo rollouts abort` does, then the controller rolls back.
func (a *argoRollouts) abortOnAlert(ctx context.Context) (Outcome, error) {
	out, err := a.hook.decide(ctx, nil)
	if err != nil {
		return out, err
	}
	patch := []byte(`{"status":{"abort":true}}`)
	if _, err := a.rollouts().Patch(ctx, App, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return out, fmt.Errorf("abort the Rollout: %w", err)
	}
	a.logf("aborted the Rollout at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
	return a.awaitAbort(ctx, out, nil)
}

// promoted holds once the canary's ReplicaSet became the stable one and
// the Rollout is Healthy on it: the rollout completed.
func (a *argoRollouts) promoted(st rolloutStatus) bool {
	return a.started && st.StableRS != "" && st.StableRS != a.stableHash && st.StableRS == st.CurrentPodHash && st.healthy()
}

// awaitAbort waits for the abort to be complete and records the evidence.
func (a *argoRollouts) awaitAbort(ctx context.Context, out Outcome, runs *runWatch) (Outcome, error) {
	var st rolloutStatus
	_, err := a.waitRollout(ctx, func(ro *unstructured.Unstructured) bool {
		st = rolloutStatusOf(ro)
		return st.abortedDegraded() && st.StableRS == a.stableHash && st.AvailableReplicas >= int64(a.stable.Replicas)
	})
	if err != nil {
		return out, fmt.Errorf("wait for the Rollout to be Degraded (RolloutAborted) on %s: %w", a.stableHash, err)
	}
	// A pod that terminates leaves the Service endpoints at once (the
	// sample app drains, unready): the canary is out when its ReplicaSet
	// wants and counts no replica.
	scaledDown, err := kube.WaitReplicaSets(ctx, a.w.env.Client, a.w.env.Namespace, a.Placement().Canary.Selector, func(sets []*appsv1.ReplicaSet) (bool, error) {
		for _, rs := range sets {
			if ptr.Deref(rs.Spec.Replicas, 0) != 0 || rs.Status.Replicas != 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return out, fmt.Errorf("wait for the canary ReplicaSet to be at zero: %w", err)
	}
	switched, err := a.waitSelectors(ctx)
	if err != nil {
		return out, err
	}
	out.Actuated = latest(scaledDown, switched)
	out.Actuation = fmt.Sprintf("canary ReplicaSet at zero, stable %s (hash %s) fully available, Rollout %s, Services %s and %s on the stable hash",
		a.stable.Name, a.stableHash, st.describe(), argoCanaryService, argoStableService)
	out.Evidence = append(out.Evidence, Evidence{Name: "rollout at actuation", Value: st.describe() + "; conditions: " + st.conditions()})
	if runs != nil {
		out.Evidence = append(out.Evidence, runs.evidence(ctx)...)
	}
	out.Evidence = append(out.Evidence, Evidence{Name: "timestamps",
		Value: "Argo's own timestamps have 1 s resolution; the marks come from the harness's watch"})
	a.logf("rollback actuated: %s", out.Actuation)
	return out, nil
}

// waitSelectors waits until both canary-strategy Services select the
// stable hash and returns the instant the second one did.
func (a *argoRollouts) waitSelectors(ctx context.Context) (time.Time, error) {
	var at time.Time
	for _, name := range []string{argoCanaryService, argoStableService} {
		t, err := kube.WaitService(ctx, a.w.env.Client, a.w.env.Namespace, name, func(svc *corev1.Service) (bool, error) {
			return svc.Spec.Selector[argoHashLabel] == a.stableHash, nil
		})
		if err != nil {
			return at, fmt.Errorf("wait for service %s to select the stable hash %s: %w", name, a.stableHash, err)
		}
		at = t
	}
	return at, nil
}

// waitRollout watches the Rollout until cond holds and returns when it did.
func (a *argoRollouts) waitRollout(ctx context.Context, cond func(*unstructured.Unstructured) bool) (time.Time, error) {
	return kube.WaitObjects(ctx, a.w.env.Dynamic, rolloutsGVR, a.w.env.Namespace, LabelApp+"="+App, func(items []*unstructured.Unstructured) (bool, error) {
		for _, ro := range items {
			if ro.GetName() == App && cond(ro) {
				return true, nil
			}
		}
		return false, nil
	})
}

// rolloutStatus is the part of a Rollout's status the machinery reads.
type rolloutStatus struct {
	Phase             string `json:"phase"`
	Message           string `json:"message"`
	Abort             bool   `json:"abort"`
	AbortedAt         string `json:"abortedAt"`
	StableRS          string `json:"stableRS"`
	CurrentPodHash    string `json:"currentPodHash"`
	AvailableReplicas int64  `json:"availableReplicas"`
	Conditions        []struct {
		Type, Status, Reason, Message string
	} `json:"conditions"`
}

func rolloutStatusOf(ro *unstructured.Unstructured) rolloutStatus { return statusOf[rolloutStatus](ro) }

func (s rolloutStatus) healthy() bool { return s.Phase == "Healthy" }
func (s rolloutStatus) aborted() bool { return s.Abort || s.AbortedAt != "" }

// abortedDegraded holds when the Rollout says it aborted: phase Degraded
// and a condition with reason RolloutAborted.
func (s rolloutStatus) abortedDegraded() bool {
	if s.Phase != "Degraded" {
		return false
	}
	for _, c := range s.Conditions {
		if c.Reason == "RolloutAborted" {
			return true
		}
	}
	return false
}

func (s rolloutStatus) describe() string {
	d := s.Phase
	if s.Message != "" {
		d += " (" + s.Message + ")"
	}
	return d
}

func (s rolloutStatus) conditions() string {
	var parts []string
	for _, c := range s.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason))
	}
	return strings.Join(parts, ", ")
}

// mergeLabels returns have with add's labels set over it.
func mergeLabels(have, add map[string]string) map[string]string {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, add)
	return out
}

// oneLine keeps an API error to one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// latest is the later of two instants.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Creates implements Describer.
func (a *argoRollouts) Creates() []string {
	out := append(a.w.objects(), "Service "+argoCanaryService, "Service "+argoStableService)
	for _, t := range a.cfg.templates {
		out = append(out, "AnalysisTemplate "+t.GetName()+" (from "+a.cfg.name+")")
	}
	return append(out, fmt.Sprintf("Rollout %s (%s, canary %s)", App, replicasOf(a.stable), a.canary.Name))
}
