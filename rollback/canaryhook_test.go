package rollback

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kubetest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// appPod is a Running pod of app "app" in namespace "drill" on one track.
func appPod(name, track string, ready bool) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "drill", Name: name, Labels: map[string]string{"app": "app", "track": track}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}},
		},
	}
}

func withContainer(p *corev1.Pod, c corev1.ContainerStatus) *corev1.Pod {
	c.Name = "app"
	p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, c)
	return p
}

func crashLooping(name string) *corev1.Pod {
	return withContainer(appPod(name, trackCanary, false), corev1.ContainerStatus{
		RestartCount: 3,
		State:        corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
	})
}

func TestDeadlineExceeded(t *testing.T) {
	cond := func(typ appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason string) appsv1.DeploymentCondition {
		return appsv1.DeploymentCondition{Type: typ, Status: status, Reason: reason, Message: `ReplicaSet "app-canary-5d4" has timed out progressing.`}
	}
	tests := []struct {
		name  string
		conds []appsv1.DeploymentCondition
		want  bool
	}{
		{"no conditions", nil, false},
		{"progressing", []appsv1.DeploymentCondition{cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, "NewReplicaSetAvailable")}, false},
		{"not progressing for another reason", []appsv1.DeploymentCondition{cond(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ReplicaSetCreateError")}, false},
		{"reason on another condition", []appsv1.DeploymentCondition{cond(appsv1.DeploymentAvailable, corev1.ConditionFalse, "ProgressDeadlineExceeded")}, false},
		{"reason with status unknown", []appsv1.DeploymentCondition{cond(appsv1.DeploymentProgressing, corev1.ConditionUnknown, "ProgressDeadlineExceeded")}, false},
		{"deadline exceeded", []appsv1.DeploymentCondition{
			cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable"),
			cond(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded"),
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deadlineExceeded(&appsv1.Deployment{Status: appsv1.DeploymentStatus{Conditions: tt.conds}})
			switch {
			case !tt.want && got != "":
				t.Errorf("deadlineExceeded() = %q, want none", got)
			case tt.want && (!strings.Contains(got, "progress deadline") || !strings.Contains(got, "timed out progressing")):
				t.Errorf("deadlineExceeded() = %q, want the deadline named with the condition's message", got)
			}
		})
	}
}

func TestBuildChecksEnv(t *testing.T) {
	valid := Env{Client: fake.NewClientset(), Namespace: "drill", Image: "sampleapp:dev", Detection: DetectKubernetes}
	tests := []struct {
		name   string
		mutate func(*Env)
		want   string // substring of the error; "" when valid
	}{
		{"valid", func(*Env) {}, ""},
		{"valid harness detection and a 1s deadline", func(e *Env) { e.Detection, e.ProgressDeadline = DetectHarness, time.Second }, ""},
		{"no client", func(e *Env) { e.Client = nil }, "client is nil"},
		{"no namespace", func(e *Env) { e.Namespace = "" }, "namespace is empty"},
		{"no image", func(e *Env) { e.Image = "" }, "image is empty"},
		{"deadline under 1s", func(e *Env) { e.ProgressDeadline = 500 * time.Millisecond }, "progress deadline 500ms is under 1s"},
		{"negative deadline", func(e *Env) { e.ProgressDeadline = -time.Minute }, "progress deadline -1m0s"},
		{"unknown detection", func(e *Env) { e.Detection = "psychic" }, `unknown detection "psychic"`},
		{"no detection", func(e *Env) { e.Detection = "" }, `unknown detection ""`},
	}
	spec, err := Lookup(CanaryHook)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid
			tt.mutate(&e)
			m, err := spec.Build(e, testPlan)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Build() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Build() = %v, want an error containing %q", err, tt.want)
			case tt.want != "" && m != nil:
				t.Fatalf("Build() returned a machinery with its error")
			}
		})
	}
}

func TestCanaryHookChecksPlan(t *testing.T) {
	spec, _ := Lookup(CanaryHook)
	p := testPlan
	p.Canary.Replicas = 0
	if err := spec.Check(p); err == nil || !strings.Contains(err.Error(), "canary.replicas 0") {
		t.Errorf("Check(no canary replicas) = %v, want canary.replicas named", err)
	}
	if err := spec.Check(testPlan); err != nil {
		t.Errorf("Check(valid plan) = %v", err)
	}
}

func TestBuildDefaults(t *testing.T) {
	d := newMachinery(t, fake.NewClientset(), DetectHarness)
	if d.w.env.ProgressDeadline != 15*time.Second || d.Name() != CanaryHook {
		t.Errorf("defaults: progress deadline %s, name %q; want 15s, %s", d.w.env.ProgressDeadline, d.Name(), CanaryHook)
	}
}

// testPlan is v1 x2 stable and a failing v2 x1 canary.
var testPlan = Plan{
	Stable: Version{Name: "v1", Replicas: 2}, Canary: Version{Name: "v2", Replicas: 1, Env: map[string]string{"ERROR_RATIO": "1"}},
	Detection: DetectHarness,
}

func buildCanaryHook(t *testing.T, e Env) *canaryHook {
	t.Helper()
	spec, err := Lookup(CanaryHook)
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build(e, testPlan)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*canaryHook)
}

func newMachinery(t *testing.T, client *fake.Clientset, detection Detection) *canaryHook {
	t.Helper()
	return buildCanaryHook(t, Env{Client: client, Namespace: "drill", Image: "sampleapp:dev", NodePort: 30080, Detection: detection})
}

func TestService(t *testing.T) {
	d := buildCanaryHook(t, Env{Client: fake.NewClientset(), Namespace: "drill", Image: "sampleapp:dev", NodePort: 30081, Detection: DetectHarness})
	svc := d.w.userService(map[string]string{LabelApp: App})
	if svc.Name != App || svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("service %s of type %s, want %s of type NodePort", svc.Name, svc.Spec.Type, App)
	}
	if !maps.Equal(svc.Spec.Selector, map[string]string{"app": App}) {
		t.Errorf("service selector = %v, want app=%s only, so that both tracks get traffic", svc.Spec.Selector, App)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort != 30081 || svc.Spec.Ports[0].TargetPort.IntValue() != appcontract.UserPort {
		t.Errorf("service ports = %+v, want one port with NodePort 30081 to %d", svc.Spec.Ports, appcontract.UserPort)
	}
}

func TestDeploymentObjects(t *testing.T) {
	d := newMachinery(t, fake.NewClientset(), DetectKubernetes)
	v := Version{Name: "v2", Replicas: 2, Env: map[string]string{"ZED": "z", "ERROR_RATIO": "1", "ALPHA": "a"}}
	stable, err := d.w.deployment(d.name(trackStable), trackLabels(trackStable), Version{Name: "v1", Replicas: 3}, false)
	if err != nil {
		t.Fatal(err)
	}
	canary, err := d.w.deployment(d.name(trackCanary), trackLabels(trackCanary), v, true)
	if err != nil {
		t.Fatal(err)
	}

	if canary.Name != "app-canary" || stable.Name != "app-stable" {
		t.Errorf("deployment names %s and %s, want app-stable and app-canary", stable.Name, canary.Name)
	}
	if canary.Labels["track"] != trackCanary || stable.Labels["track"] != trackStable {
		t.Errorf("deployment labels %v and %v, want their tracks", stable.Labels, canary.Labels)
	}
	want := map[string]string{"app": "app", "track": trackCanary, "version": "v2"}
	if got := canary.Spec.Template.Labels; !maps.Equal(got, want) {
		t.Errorf("canary pod labels = %v, want %v", got, want)
	}
	if *canary.Spec.Replicas != 2 {
		t.Errorf("canary replicas = %d, want 2", *canary.Spec.Replicas)
	}
	for _, pair := range [][2]*appsv1.Deployment{{stable, canary}, {canary, stable}} {
		dep, other := pair[0], pair[1]
		sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		if !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
			t.Errorf("%s: selector %s does not match its pod labels %v", dep.Name, sel, dep.Spec.Template.Labels)
		}
		if sel.Matches(labels.Set(other.Spec.Template.Labels)) {
			t.Errorf("%s: selector %s also matches %s's pods", dep.Name, sel, other.Name)
		}
	}

	c := canary.Spec.Template.Spec.Containers[0]
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	if want := []string{"VERSION", "ALPHA", "ERROR_RATIO", "ZED"}; !slices.Equal(names, want) {
		t.Errorf("env names = %v, want %v (VERSION first, then sorted)", names, want)
	}
	if c.Env[0].Value != "v2" || c.Env[2].Value != "1" {
		t.Errorf("env = %v, want VERSION=v2 and ERROR_RATIO=1", c.Env)
	}
	if c.Image != "sampleapp:dev" {
		t.Errorf("image = %q, want sampleapp:dev", c.Image)
	}
	p := c.ReadinessProbe
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.IntValue() != appcontract.UserPort {
		t.Errorf("readiness probe = %+v, want HTTP GET /readyz on %d", p, appcontract.UserPort)
	}
}

func TestTriggerNeverBlocks(t *testing.T) {
	d := newMachinery(t, fake.NewClientset(), DetectHarness)
	done := make(chan struct{})
	go func() {
		for _, r := range []string{"first", "second", "third"} {
			if err := d.Trigger(t.Context(), r); err != nil {
				t.Errorf("Trigger(%s) = %v", r, err)
			}
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(kubetest.Timeout):
		t.Fatal("Trigger blocked")
	}
	if got := <-d.hook.fired; got != "first" {
		t.Errorf("pending trigger = %q, want the first", got)
	}
}

func TestStableReadyAndRolledBack(t *testing.T) {
	terminating := appPod("app-stable-3", trackStable, true)
	terminating.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	tests := []struct {
		name                    string
		pods                    []*corev1.Pod
		stableReady, rolledBack bool
	}{
		{"all stable ready", []*corev1.Pod{appPod("s1", trackStable, true), appPod("s2", trackStable, true)}, true, true},
		{"one stable not ready", []*corev1.Pod{appPod("s1", trackStable, true), appPod("s2", trackStable, false)}, false, false},
		{"terminating stable pod does not count", []*corev1.Pod{appPod("s1", trackStable, true), terminating}, false, false},
		{"ready canary pods do not count as stable", []*corev1.Pod{appPod("s1", trackStable, true), appPod("c1", trackCanary, true)}, false, false},
		{"canary pod left", []*corev1.Pod{appPod("s1", trackStable, true), appPod("s2", trackStable, true), appPod("c1", trackCanary, false)}, true, false},
		{"no pods", nil, false, false},
	}
	d := newMachinery(t, fake.NewClientset(), DetectHarness)
	d.stable.Replicas = 2
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, _ := d.stableReady(tt.pods)
			done, _ := d.rolledBack(tt.pods)
			if ready != tt.stableReady || done != tt.rolledBack {
				t.Errorf("stableReady() = %v, rolledBack() = %v; want %v, %v", ready, done, tt.stableReady, tt.rolledBack)
			}
		})
	}
}

// deployStableAndCanary runs DeployStable (v1, 2 replicas, whose Ready pods
// the client already holds) and StartCanary (v2, 1 replica).
func deployStableAndCanary(t *testing.T, ctx context.Context, d *canaryHook) {
	t.Helper()
	if err := d.DeployStable(ctx, Version{Name: "v1", Replicas: 2}); err != nil {
		t.Fatalf("DeployStable: %v", err)
	}
	if err := d.StartCanary(ctx, Version{Name: "v2", Replicas: 1, Env: map[string]string{"ERROR_RATIO": "1"}}); err != nil {
		t.Fatalf("StartCanary: %v", err)
	}
	canary, err := d.w.env.Client.AppsV1().Deployments("drill").Get(ctx, "app-canary", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("canary deployment: %v", err)
	}
	if s := canary.Spec.ProgressDeadlineSeconds; s == nil || *s != 15 {
		t.Errorf("canary progressDeadlineSeconds = %v, want 15", s)
	}
	if _, err := d.w.env.Client.CoreV1().Services("drill").Get(ctx, "app", metav1.GetOptions{}); err != nil {
		t.Errorf("service: %v", err)
	}
}

// canaryReplicas reads the canary Deployment's spec.replicas.
func canaryReplicas(ctx context.Context, d *canaryHook) (int32, error) {
	dep, err := d.w.env.Client.AppsV1().Deployments("drill").Get(ctx, "app-canary", metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	return *dep.Spec.Replicas, nil
}

// scaledToZero reports whether the client saw the merge patch that scales the canary to zero.
func scaledToZero(client *fake.Clientset) bool {
	for _, a := range client.Actions() {
		p, ok := a.(k8stesting.PatchAction)
		if ok && a.GetResource().Resource == "deployments" && p.GetName() == "app-canary" &&
			p.GetPatchType() == types.MergePatchType && string(p.GetPatch()) == `{"spec":{"replicas":0}}` {
			return true
		}
	}
	return false
}

// watching returns a channel that is closed once a watch on pods with the
// given label selector is registered in the client's tracker. The fake
// tracker does not replay a delete that falls between an informer's list and
// its watch, so a test deletes pods only after the watch is in place.
func watching(client *fake.Clientset, selector string) <-chan struct{} {
	registered := make(chan struct{})
	var once sync.Once
	client.PrependWatchReactor("pods", func(action k8stesting.Action) (bool, watch.Interface, error) {
		wa, ok := action.(k8stesting.WatchActionImpl)
		if !ok || wa.ListOptions.LabelSelector != selector {
			return false, nil, nil
		}
		w, err := client.Tracker().Watch(action.GetResource(), action.GetNamespace(), wa.ListOptions)
		if err == nil {
			once.Do(func() { close(registered) })
		}
		return true, w, err
	})
	return registered
}

// awaitSignal waits for ch, failing the test when ctx ends first.
func awaitSignal(t *testing.T, ctx context.Context, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("%s: %v", what, ctx.Err())
	}
}

func TestAwaitRollbackHarness(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appPod("app-stable-1", trackStable, true), appPod("app-stable-2", trackStable, true))
	d := newMachinery(t, client, DetectHarness)
	deployStableAndCanary(t, ctx, d)

	before := time.Now()
	for _, r := range []string{"SLO breached", "SLO still breached"} {
		if err := d.Trigger(ctx, r); err != nil {
			t.Fatalf("Trigger: %v", err)
		}
	}
	out, err := d.AwaitRollback(ctx)
	if err != nil {
		t.Fatalf("AwaitRollback: %v", err)
	}
	if out.DetectedBy != DetectedByHarness || out.Reason != "SLO breached" {
		t.Errorf("outcome detected by %q for %q, want %q for the first trigger", out.DetectedBy, out.Reason, DetectedByHarness)
	}
	if out.Decided.Before(before) || out.Actuated.Before(out.Decided) {
		t.Errorf("decided %s, actuated %s: want trigger <= decided <= actuated", out.Decided.Format(time.StampMicro), out.Actuated.Format(time.StampMicro))
	}
	if !scaledToZero(client) {
		t.Errorf("no merge patch scaling app-canary to 0 among %d actions", len(client.Actions()))
	}
	if n, err := canaryReplicas(ctx, d); err != nil || n != 0 {
		t.Errorf("canary replicas = %d, %v; want 0", n, err)
	}
}

func TestAwaitRollbackWaitsForCanaryPods(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t,
		appPod("app-stable-1", trackStable, true), appPod("app-stable-2", trackStable, true),
		appPod("app-canary-1", trackCanary, true))
	d := newMachinery(t, client, DetectHarness)
	deployStableAndCanary(t, ctx, d)
	actuation := watching(client, "app=app")

	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	if err := d.Trigger(ctx, "SLO breached"); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	go func() {
		out, err := d.AwaitRollback(ctx)
		done <- result{out, err}
	}()
	awaitSignal(t, ctx, actuation, "AwaitRollback never watched for actuation")
	if n, err := canaryReplicas(ctx, d); err != nil || n != 0 {
		t.Fatalf("watching for actuation with canary replicas %d, %v; want 0", n, err)
	}
	// The canary pod is still there, so the rollback is not actuated yet.
	// Give the informer time to sync and judge the pods it listed.
	select {
	case r := <-done:
		t.Fatalf("AwaitRollback() = %+v, %v while a canary pod remained", r.out, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	// Deleting it, as the ReplicaSet controller would, completes the rollback.
	deleted := time.Now()
	if err := client.CoreV1().Pods("drill").Delete(ctx, "app-canary-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("AwaitRollback: %v", r.err)
	}
	if r.out.Actuated.Before(deleted) {
		t.Errorf("actuated at %s, before the last canary pod was deleted at %s", r.out.Actuated.Format(time.StampMicro), deleted.Format(time.StampMicro))
	}
}

func TestAwaitRollbackHarnessWithoutTrigger(t *testing.T) {
	client := kubetest.FakeClient(t, appPod("app-stable-1", trackStable, true), appPod("app-stable-2", trackStable, true))
	d := newMachinery(t, client, DetectHarness)
	deployStableAndCanary(t, kubetest.Context(t), d)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := d.AwaitRollback(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no rollback hook fired") {
		t.Errorf("AwaitRollback() without a trigger = %v, want the hook named and the deadline", err)
	}
	if scaledToZero(client) {
		t.Errorf("canary scaled to zero without a decision")
	}
}

func TestAwaitRollbackKubernetesCrashLoop(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appPod("app-stable-1", trackStable, true), appPod("app-stable-2", trackStable, true))
	d := newMachinery(t, client, DetectKubernetes)
	deployStableAndCanary(t, ctx, d)
	actuation := watching(client, "app=app")

	done := make(chan error, 1)
	var out Outcome
	go func() {
		var err error
		out, err = d.AwaitRollback(ctx)
		done <- err
	}()
	if _, err := client.CoreV1().Pods("drill").Create(ctx, crashLooping("app-canary-1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	awaitSignal(t, ctx, actuation, "AwaitRollback never watched for actuation")
	if !scaledToZero(client) {
		t.Fatalf("watching for actuation before the canary was scaled to zero")
	}
	if err := client.CoreV1().Pods("drill").Delete(ctx, "app-canary-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("AwaitRollback: %v", err)
	}
	if out.DetectedBy != "kubernetes signals" || !strings.Contains(out.Reason, "app-canary-1 is in CrashLoopBackOff") {
		t.Errorf("outcome detected by %q for %q, want kubernetes signals naming the crash-looping pod", out.DetectedBy, out.Reason)
	}
	if out.Decided.IsZero() || out.Actuated.Before(out.Decided) {
		t.Errorf("decided %s, actuated %s: want decided <= actuated", out.Decided.Format(time.StampMicro), out.Actuated.Format(time.StampMicro))
	}
}

func TestAwaitRollbackKubernetesProgressDeadline(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appPod("app-stable-1", trackStable, true), appPod("app-stable-2", trackStable, true))
	d := newMachinery(t, client, DetectKubernetes)
	deployStableAndCanary(t, ctx, d)

	canary, err := client.AppsV1().Deployments("drill").Get(ctx, "app-canary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	canary.Status.Conditions = []appsv1.DeploymentCondition{{
		Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "app-canary-5d4" has timed out progressing.`,
	}}
	if _, err := client.AppsV1().Deployments("drill").UpdateStatus(ctx, canary, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := d.AwaitRollback(ctx)
	if err != nil {
		t.Fatalf("AwaitRollback: %v", err)
	}
	if out.DetectedBy != "kubernetes signals" || !strings.Contains(out.Reason, "timed out progressing") {
		t.Errorf("outcome detected by %q for %q, want kubernetes signals with the deadline condition", out.DetectedBy, out.Reason)
	}
	if !scaledToZero(client) {
		t.Errorf("no merge patch scaling app-canary to 0")
	}
}

func TestTemplateAndTargetPort(t *testing.T) {
	var seen []bool
	d := buildCanaryHook(t, Env{Client: fake.NewClientset(), Namespace: "drill-x-1", Image: "img", Detection: DetectHarness,
		Pods: &PodHook{TargetPort: "user", Apply: func(canary bool, tmpl *corev1.PodTemplateSpec) error {
			seen = append(seen, canary)
			tmpl.Annotations = map[string]string{"canary": fmt.Sprint(canary)}
			return nil
		}}})
	dep, err := d.w.deployment(d.name(trackCanary), trackLabels(trackCanary), Version{Name: "v2", Replicas: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	if dep.Spec.Template.Annotations["canary"] != "true" || len(seen) != 1 {
		t.Errorf("template hook saw %v, annotations %v", seen, dep.Spec.Template.Annotations)
	}
	if got := d.w.userService(nil).Spec.Ports[0].TargetPort.String(); got != "user" {
		t.Errorf("service targetPort %q, want the named port user", got)
	}
}
