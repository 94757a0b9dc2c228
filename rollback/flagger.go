package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/flaggerhook"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// Flagger is the machinery name of Flagger's blue-green Canary.
const Flagger = "flagger"

// BackendFlagger is the Flagger controller (and its image, which also
// holds the drill's webhook receiver).
const BackendFlagger = "flagger"

// DetectedByFlaggerGate is how a report labels detection by the rollout
// gate Flagger calls at each analysis iteration.
const DetectedByFlaggerGate = "flagger rollout gate"

var canariesGVR = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "canaries"}

// The Flagger analysis of every drill: one iteration every
// flaggerInterval (Flagger's floor is 10 s), a rollback after
// flaggerThreshold failed gate checks, a promotion after flaggerIterations
// passed ones. The gate sends flaggerGateRequests test requests per check.
const (
	flaggerInterval     = 10 * time.Second
	flaggerThreshold    = 2
	flaggerIterations   = 3
	flaggerGateRequests = 20
	flaggerMaxErrors    = 0.05
	// flaggerProgressDeadline is how long the canary may take to become
	// ready: on a loaded host three canary pods took over 15 s, and
	// Flagger then rolled back on the deadline, before the gate was asked.
	flaggerProgressDeadline = 60 * time.Second
)

// The objects of the flagger machinery. Flagger names the primary
// Deployment and the canary Service after the target Deployment (App).
var (
	flaggerPrimary       = App + "-primary"
	flaggerCanaryService = App + "-canary"
	flaggerHookName      = "flagger-hook"
)

// flaggerSelector is the pod label Flagger selects by: it is the only one
// in the target's selector, and Flagger rewrites it to App-primary on the
// primary's pods. Every other pod label is copied as it is.
const flaggerSelector = "name"

func init() {
	Register(Spec{
		Name: Flagger,
		Summary: fmt.Sprintf("a Flagger Canary, blue-green with the kubernetes provider: users stay on the primary; the new version gets only test traffic, "+
			"and a rollout webhook gate on its error ratio fails it after %d checks, %s apart", flaggerThreshold, flaggerInterval),
		Needs: []string{BackendFlagger},
		// Blue-green without a mesh: users never reach the canary.
		Share: func(Plan) float64 { return 0 },
		Check: func(p Plan) error {
			if p.Canary.Replicas != 0 {
				return fmt.Errorf("canary.replicas %d: Flagger runs the canary at the target's size; leave it 0", p.Canary.Replicas)
			}
			return checkDetection(p.Detection, DetectAnalysis)
		},
		New: func(e Env, p Plan) (Machinery, error) {
			switch {
			case e.Dynamic == nil:
				return nil, errors.New("flagger machinery: dynamic client is nil")
			case e.FlaggerImage == "":
				return nil, errors.New("flagger machinery: no Flagger image (FIREDRILL_FLAGGER_IMAGE) for its webhook receiver")
			}
			return &flagger{base: newBase(Flagger, e), stable: p.Stable, canary: p.Canary}, nil
		},
	})
}

// flagger is the new version as Flagger ships it without a mesh: the team's
// Deployment (App) is Flagger's target, Flagger copies it to App-primary,
// which users reach, and scales the target to zero. A new template scales
// the target up as the canary; users never see it. At each analysis
// iteration Flagger calls the rollout gate (internal/flaggerhook), which
// sends test requests to the canary Service and fails the check when the
// canary's error ratio is over flaggerMaxErrors. After flaggerThreshold
// failed checks Flagger rolls back: it scales the canary to zero and marks
// the Canary Failed. Every event Flagger records is also posted to the
// receiver, with Flagger's own millisecond timestamp.
//
// Detected is the first failed gate check's answer. Decided is Flagger's
// "Rolling back" event. Actuated is the canary Deployment at zero pods with
// the Canary Failed. When Flagger promotes instead, AwaitRollback returns
// an Outcome with Promoted set.
type flagger struct {
	base
	stable, canary Version
	hookURL        string
}

func (f *flagger) Name() string { return Flagger }

func (f *flagger) logf(format string, args ...any) { f.w.logf(Flagger, format, args...) }

func (f *flagger) canaries() dynamic.ResourceInterface {
	return f.w.env.Dynamic.Resource(canariesGVR).Namespace(f.w.env.Namespace)
}

func flaggerPods(value string) map[string]string { return appLabels(flaggerSelector, value) }

func (f *flagger) Placement() Placement {
	p := placement(where(flaggerPods(flaggerPrimary), flaggerPrimary), where(flaggerPods(App), App))
	p.Test = flaggerCanaryService
	return p
}

// Preflight implements Preflighter.
func (f *flagger) Preflight(ctx context.Context) error {
	return CheckFlagger(ctx, f.w.env.Client, f.w.env.Dynamic)
}

// DeployStable creates the receiver, the user Service (Flagger's apex
// Service, published on the NodePort), the canary Service, the target
// Deployment and the Canary, and waits for Flagger to initialize: the
// primary fully available, the target at zero.
func (f *flagger) DeployStable(ctx context.Context, stable Version) error {
	if err := f.w.setUp(ctx, map[string]string{flaggerSelector: flaggerPrimary}); err != nil {
		return err
	}
	client, ns := f.w.env.Client, f.w.env.Namespace
	canarySvc, err := client.CoreV1().Services(ns).Create(ctx, f.w.service(flaggerCanaryService, map[string]string{flaggerSelector: App}), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create service %s: %w", flaggerCanaryService, err)
	}
	if f.hookURL, err = f.createHook(ctx); err != nil {
		return err
	}
	dep, err := f.w.deployment(App, map[string]string{flaggerSelector: App}, stable, false)
	if err != nil {
		return err
	}
	dep.Spec.ProgressDeadlineSeconds = ptr.To(int32(flaggerProgressDeadline.Seconds()))
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create deployment %s: %w", App, err)
	}
	if _, err := f.canaries().Create(ctx, f.canaryObject(stable, "http://"+canarySvc.Spec.ClusterIP+"/"), strictCreate); err != nil {
		return fmt.Errorf("create Canary: %s", oneLine(err))
	}
	f.logf("waiting for Flagger to initialize the Canary: %s copied to %s, %d pod(s) of %s", App, flaggerPrimary, stable.Replicas, stable.Name)
	if _, err := f.waitCanary(ctx, func(st canaryStatus) bool { return st.Phase == "Initialized" }); err != nil {
		return fmt.Errorf("wait for the Canary to be Initialized: %w", err)
	}
	_, err = kube.WaitDeployment(ctx, client, ns, flaggerPrimary, func(d *appsv1.Deployment) (bool, error) {
		return d.Status.AvailableReplicas == stable.Replicas && d.Status.UpdatedReplicas == stable.Replicas, nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s to be available: %w", flaggerPrimary, err)
	}
	f.logf("Flagger initialized: %s serves %s, %s is at zero", flaggerPrimary, stable.Name, App)
	return nil
}

// canaryObject is the Canary over the target Deployment: kubernetes
// provider (blue-green), the rollout gate on the canary Service at
// canaryURL, and every event posted to the receiver.
func (f *flagger) canaryObject(stable Version, canaryURL string) *unstructured.Unstructured {
	port := f.w.targetPort()
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": canariesGVR.GroupVersion().String(),
		"kind":       "Canary",
		"metadata":   map[string]any{"name": App, "namespace": f.w.env.Namespace, "labels": map[string]any{LabelApp: App}},
		"spec": map[string]any{
			"provider":                "kubernetes",
			"targetRef":               map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": App},
			"progressDeadlineSeconds": int64(flaggerProgressDeadline.Seconds()),
			"service":                 map[string]any{"port": int64(80), "portName": appcontract.UserPortName, "targetPort": intOrString(port)},
			"analysis": map[string]any{
				"interval":   flaggerInterval.String(),
				"threshold":  int64(flaggerThreshold),
				"iterations": int64(flaggerIterations),
				"webhooks": []any{
					map[string]any{"name": "error-ratio-gate", "type": "rollout", "url": f.hookURL + flaggerhook.PathGate, "timeout": "10s",
						"metadata": map[string]any{
							flaggerhook.MetaURL:           canaryURL,
							flaggerhook.MetaRequests:      strconv.Itoa(flaggerGateRequests),
							flaggerhook.MetaMaxErrorRatio: strconv.FormatFloat(flaggerMaxErrors, 'f', -1, 64),
							flaggerhook.MetaVersionHeader: appcontract.VersionHeader,
						}},
					map[string]any{"name": "events", "type": "event", "url": f.hookURL + flaggerhook.PathEvent},
				},
			},
		},
	}}
}

func intOrString(v intstr.IntOrString) any {
	if v.Type == intstr.String {
		return v.StrVal
	}
	return int64(v.IntVal)
}

// createHook runs the webhook receiver and returns its URL (the Service's
// cluster IP: the drill does not depend on cluster DNS).
func (f *flagger) createHook(ctx context.Context) (string, error) {
	client, ns := f.w.env.Client, f.w.env.Namespace
	labels := map[string]string{LabelApp: flaggerHookName}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: flaggerHookName}, Spec: corev1.ServiceSpec{Selector: labels,
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(flaggerhook.Port)}}}}
	created, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("flagger hook: create service: %w", err)
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, f.hookDeployment(labels), metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("flagger hook: create deployment: %w", err)
	}
	if err := waitAvailable(ctx, client, ns, flaggerHookName); err != nil {
		return "", fmt.Errorf("flagger hook: %w", err)
	}
	return "http://" + created.Spec.ClusterIP, nil
}

func (f *flagger) hookDeployment(labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: flaggerHookName, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
				Containers: []corev1.Container{{
					Name: flaggerHookName, Image: f.w.env.FlaggerImage, ImagePullPolicy: corev1.PullIfNotPresent,
					Command: []string{"/bin/flagger-hook"},
					Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: flaggerhook.Port}},
					ReadinessProbe: &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{
						HTTPGet: &corev1.HTTPGetAction{Path: flaggerhook.PathRecord, Port: intstr.FromInt32(flaggerhook.Port)}}},
				}},
			}},
		},
	}
}

// StartCanary puts the new version into the target Deployment, as a team's
// CD does; Flagger sees the new revision and scales the target up.
func (f *flagger) StartCanary(ctx context.Context, canary Version) error {
	tmpl, err := f.w.template(canary, map[string]string{flaggerSelector: App}, true)
	if err != nil {
		return err
	}
	deps := f.w.env.Client.AppsV1().Deployments(f.w.env.Namespace)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := deps.Get(ctx, App, metav1.GetOptions{})
		if err != nil {
			return err
		}
		dep.Spec.Template = tmpl
		_, err = deps.Update(ctx, dep, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("update deployment %s to %s: %w", App, canary.Name, err)
	}
	f.logf("deployment %s updated to %s: Flagger scales it up as the canary and calls the gate every %s", App, canary.Name, flaggerInterval)
	return nil
}

// Serving reads the primary Deployment, which alone takes user traffic:
// its pods' version, and its size. The detail adds the Canary's phase and
// the canary Deployment's size.
func (f *flagger) Serving(ctx context.Context) (Serving, error) {
	deps := f.w.env.Client.AppsV1().Deployments(f.w.env.Namespace)
	primary, err := deps.Get(ctx, flaggerPrimary, metav1.GetOptions{})
	if err != nil {
		return Serving{}, fmt.Errorf("read deployment %s: %w", flaggerPrimary, err)
	}
	v := primary.Spec.Template.Labels[LabelVersion]
	s := Serving{Detail: fmt.Sprintf("%s runs %s (%d available)", flaggerPrimary, v, primary.Status.AvailableReplicas)}
	if ptr.Deref(primary.Spec.Replicas, 0) > 0 {
		s.Versions = []string{v}
	}
	if target, err := deps.Get(ctx, App, metav1.GetOptions{}); err == nil {
		s.Detail += fmt.Sprintf("; canary %s runs %s (%d replica(s), test traffic only)", App, target.Spec.Template.Labels[LabelVersion], ptr.Deref(target.Spec.Replicas, 0))
	}
	if st, err := f.status(ctx); err == nil {
		s.Detail += "; Canary " + st.describe()
	}
	return s, nil
}

func (f *flagger) AwaitRollback(ctx context.Context) (Outcome, error) {
	var st canaryStatus
	seen, err := f.waitCanary(ctx, func(s canaryStatus) bool {
		st = s
		return s.Phase == "Failed" || s.Phase == "Succeeded"
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("wait for Flagger to fail or promote the Canary: %w", err)
	}
	rec, err := f.record(ctx)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{DetectedBy: DetectedByFlaggerGate}
	if c, ok := rec.firstFailed(); ok {
		out.Detected, out.DetectedDetail = c.End, c.Detail
		out.Evidence = append(out.Evidence, Evidence{Name: "first failed gate check", Value: describeCheck(c)})
	}
	if st.Phase == "Succeeded" {
		out.Promoted = true
		out.Decided = rec.eventAt("Copying "+App+"."+f.w.env.Namespace+" template spec", seen)
		out.Reason = "Flagger promoted " + f.canary.Name + ": Canary " + st.describe()
		out.Evidence = append(out.Evidence, rec.evidence()...)
		f.logf("promoted at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
		return out, nil
	}
	out.Decided = rec.eventAt("Rolling back", seen)
	out.Reason = "Flagger rolled back: " + rec.eventMessage("Rolling back", "Canary "+st.describe())
	f.logf("rolled back at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
	return f.awaitScaledDown(ctx, out, seen, st)
}

// awaitScaledDown waits for the canary Deployment to have no pod left.
func (f *flagger) awaitScaledDown(ctx context.Context, out Outcome, failed time.Time, st canaryStatus) (Outcome, error) {
	gone, err := kube.WaitDeployment(ctx, f.w.env.Client, f.w.env.Namespace, App, func(d *appsv1.Deployment) (bool, error) {
		return ptr.Deref(d.Spec.Replicas, 0) == 0 && d.Status.Replicas == 0, nil
	})
	if err != nil {
		return out, fmt.Errorf("wait for the canary %s to be at zero: %w", App, err)
	}
	rec, err := f.record(ctx)
	if err != nil {
		return out, err
	}
	out.Actuated = latest(gone, failed)
	out.Actuation = fmt.Sprintf("canary %s at zero pods, Canary %s, users still on %s", App, st.describe(), flaggerPrimary)
	out.Evidence = append(out.Evidence, rec.evidence()...)
	out.Evidence = append(out.Evidence, Evidence{Name: "timestamps",
		Value: "Flagger's event timestamps have 1 ms resolution (posted to the receiver); detected is the gate's failing answer; actuated comes from the harness's watch"})
	f.logf("rollback actuated: %s", out.Actuation)
	return out, nil
}

// canaryStatus is the part of a Canary's status the machinery reads.
type canaryStatus struct {
	Phase        string `json:"phase"`
	FailedChecks int64  `json:"failedChecks"`
	Iterations   int64  `json:"iterations"`
}

func (s canaryStatus) describe() string {
	return fmt.Sprintf("%s (%d failed check(s), %d iteration(s))", s.Phase, s.FailedChecks, s.Iterations)
}

func canaryStatusOf(obj *unstructured.Unstructured) canaryStatus {
	var st canaryStatus
	if m, ok := obj.Object["status"].(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &st)
	}
	return st
}

func (f *flagger) status(ctx context.Context) (canaryStatus, error) {
	obj, err := f.canaries().Get(ctx, App, metav1.GetOptions{})
	if err != nil {
		return canaryStatus{}, fmt.Errorf("read the Canary: %w", err)
	}
	return canaryStatusOf(obj), nil
}

// waitCanary waits until the Canary's status meets cond, and returns when
// the watch saw it.
func (f *flagger) waitCanary(ctx context.Context, cond func(canaryStatus) bool) (time.Time, error) {
	return kube.WaitObjects(ctx, f.w.env.Dynamic, canariesGVR, f.w.env.Namespace, LabelApp+"="+App, func(items []*unstructured.Unstructured) (bool, error) {
		for _, c := range items {
			if c.GetName() == App && cond(canaryStatusOf(c)) {
				return true, nil
			}
		}
		return false, nil
	})
}

// hookRecord is the receiver's record, read through the API server's proxy.
type hookRecord flaggerhook.Record

func (f *flagger) record(ctx context.Context) (hookRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, flagServerTimeout)
	defer cancel()
	raw, err := f.w.env.Client.CoreV1().Services(f.w.env.Namespace).
		ProxyGet("http", flaggerHookName, "80", flaggerhook.PathRecord, nil).DoRaw(ctx)
	if err != nil {
		return hookRecord{}, fmt.Errorf("read the flagger hook's record: %w", err)
	}
	var rec hookRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return hookRecord{}, fmt.Errorf("flagger hook's record: %w", err)
	}
	return rec, nil
}

func (r hookRecord) firstFailed() (flaggerhook.Check, bool) {
	for _, c := range r.Checks {
		if !c.Passed {
			return c, true
		}
	}
	return flaggerhook.Check{}, false
}

// event is the first event whose message starts with prefix.
func (r hookRecord) event(prefix string) (flaggerhook.Event, bool) {
	for _, e := range r.Events {
		if strings.HasPrefix(e.Message, prefix) {
			return e, true
		}
	}
	return flaggerhook.Event{}, false
}

// eventAt is Flagger's time of the first event starting with prefix, or
// otherwise when the watch saw the phase.
func (r hookRecord) eventAt(prefix string, otherwise time.Time) time.Time {
	if e, ok := r.event(prefix); ok && !e.At.IsZero() {
		return e.At
	}
	return otherwise
}

func (r hookRecord) eventMessage(prefix, otherwise string) string {
	if e, ok := r.event(prefix); ok {
		return e.Message
	}
	return otherwise
}

// evidence lists every gate check and every event, in Flagger's order.
func (r hookRecord) evidence() []Evidence {
	var out []Evidence
	for _, c := range r.Checks {
		out = append(out, Evidence{Name: "gate check at " + c.End.Format("15:04:05.000"), Value: describeCheck(c)})
	}
	for _, e := range r.Events {
		out = append(out, Evidence{Name: "flagger event at " + e.At.Format("15:04:05.000"), Value: fmt.Sprintf("%s (%s, phase %s)", e.Message, e.Type, e.Phase)})
	}
	return out
}

func describeCheck(c flaggerhook.Check) string {
	verdict := "failed"
	if c.Passed {
		verdict = "passed"
	}
	return fmt.Sprintf("%s: %s; answered by %v", verdict, c.Detail, c.Versions)
}

// Objects implements Witness: the Canary and the receiver's record.
func (f *flagger) Objects(ctx context.Context) map[string]any {
	out := map[string]any{}
	if list, err := f.canaries().List(ctx, metav1.ListOptions{}); err != nil {
		out["canaries.json"] = map[string]string{"error": err.Error()}
	} else {
		out["canaries.json"] = list
	}
	if rec, err := f.record(ctx); err != nil {
		out["flagger-hook.json"] = map[string]string{"error": err.Error()}
	} else {
		out["flagger-hook.json"] = rec
	}
	return out
}

// Creates implements Describer.
func (f *flagger) Creates() []string {
	return append(f.w.objects(),
		"Service "+flaggerCanaryService+" (the canary's test traffic; Flagger keeps its selector)",
		"Deployment and Service "+flaggerHookName+" (the rollout gate and event receiver)",
		"Deployment "+App+" (Flagger's target, "+replicasOf(f.stable)+")",
		fmt.Sprintf("Canary %s (kubernetes provider, interval %s, threshold %d, iterations %d); Flagger creates Deployment %s and Service %s-primary",
			App, flaggerInterval, flaggerThreshold, flaggerIterations, flaggerPrimary, App))
}
