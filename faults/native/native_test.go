package native

import (
	"context"
	"strings"
	"testing"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// testNS is the drill namespace of every test object.
const testNS = "drill-native-test"

// appPod is a Running pod of the sample app on the stable track, Ready or
// not, running image.
func appPod(name string, ready bool, image string) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: testNS, Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": "app", "version": "v1"},
		},
		Spec: corev1.PodSpec{
			NodeName:   "firedrill-control-plane",
			Containers: []corev1.Container{{Name: "app", Image: image}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}},
		},
	}
}

const (
	goodImage     = "firedrill/sampleapp:v1"
	stableSel     = "app=app,version=v1"
	appDeployment = "app-v1"
)

// appDeploymentObj is the stable Deployment of the sample app with a
// sidecar, so that tests can check that patches leave other containers be.
func appDeploymentObj(env ...corev1.EnvVar) *appsv1.Deployment {
	labels := map[string]string{"app": "app", "version": "v1"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: appDeployment, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "app", "version": "v1"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "app", Image: goodImage, Env: env},
					{Name: "sidecar", Image: "example/sidecar:1", Env: []corev1.EnvVar{{Name: "SIDE", Value: "car"}}},
				}},
			},
		},
	}
}

// setPodReady emulates the kubelet reporting a pod's readiness.
func setPodReady(ctx context.Context, client *fake.Clientset, name string, ready bool) error {
	p, err := client.CoreV1().Pods(testNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	p.Status.Conditions = appPod(name, ready, "").Status.Conditions
	_, err = client.CoreV1().Pods(testNS).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

// whenDeployment emulates a controller: once the Deployment satisfies cond,
// it runs act. The returned channel yields act's error, or the wait's.
func whenDeployment(ctx context.Context, client *fake.Clientset, cond func(*appsv1.Deployment) bool, act func() error) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := kube.WaitDeployment(ctx, client, testNS, appDeployment, func(d *appsv1.Deployment) (bool, error) { return cond(d), nil })
		if err == nil {
			err = act()
		}
		done <- err
	}()
	return done
}

// appImage returns the image of a Deployment's app container.
func appImage(d *appsv1.Deployment) string {
	return d.Spec.Template.Spec.Containers[0].Image
}

func wantErr(t *testing.T, err error, substrings ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", substrings)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error = %q, want it to contain %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %q, want one line", err)
	}
}

func nopExec(context.Context, ...string) (string, error) { return "", nil }

func TestConstructorsRefuse(t *testing.T) {
	client := fake.NewClientset()
	tests := []struct {
		name string
		make func() error
		want string
	}{
		{"pod-kill outside drill namespaces", func() error { _, err := DeletePods(client, "default", stableSel); return err },
			`native: refusing to act on namespace "default": not a drill namespace (drill-*)`},
		{"bare prefix", func() error { _, err := DeletePods(client, "drill-", stableSel); return err },
			`native: refusing to act on namespace "drill-": not a drill namespace (drill-*)`},
		{"invalid namespace name", func() error { _, err := Unready(client, "drill-A_b", stableSel); return err },
			`native: refusing to act on namespace "drill-A_b": not a drill namespace (drill-*)`},
		{"nil client", func() error { _, err := DeletePods(nil, testNS, stableSel); return err }, "native: pod-kill: client is nil"},
		{"empty selector", func() error { _, err := DeletePods(client, testNS, ""); return err }, "native: pod-kill: selector must not be empty"},
		{"bad selector", func() error { _, err := Unready(client, testNS, "app in ("); return err }, `native: unready: selector "app in ("`},
		{"bad-image outside drill namespaces", func() error { _, err := BadImage(client, "kube-system", appDeployment, "x:1"); return err },
			`native: refusing to act on namespace "kube-system"`},
		{"bad-image without deployment", func() error { _, err := BadImage(client, testNS, "", "x:1"); return err }, "native: bad-image: deployment must not be empty"},
		{"bad-image without image", func() error { _, err := BadImage(client, testNS, appDeployment, ""); return err }, `native: bad-image: image ""`},
		{"crashloop with a bad name", func() error { _, err := CrashLoopConfig(client, testNS, "App_Stable"); return err }, `native: crashloop: deployment "App_Stable"`},
		{"config-drift without data", func() error { _, err := ConfigDrift(client, testNS, "cfg", nil); return err }, "native: config-drift: data must not be empty"},
		{"config-drift with a bad key", func() error { _, err := ConfigDrift(client, testNS, "cfg", map[string]string{"a/b": "1"}); return err }, `native: config-drift: data key "a/b"`},
		{"partition without exec", func() error { _, err := IptablesPartition(client, nil, testNS, stableSel, 8080); return err }, "native: network-partition: exec is nil"},
		{"partition port 0", func() error { _, err := IptablesPartition(client, nopExec, testNS, stableSel, 0); return err }, "native: network-partition: port 0 is outside 1-65535"},
		{"partition port too high", func() error { _, err := IptablesPartition(client, nopExec, testNS, stableSel, 65536); return err }, "port 65536"},
		{"partition outside drill namespaces", func() error { _, err := IptablesPartition(client, nopExec, "prod", stableSel, 8080); return err },
			`native: refusing to act on namespace "prod"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.make(), tt.want)
		})
	}
}

func TestFaultsNameThemselves(t *testing.T) {
	client := fake.NewClientset()
	build := func(f faults.Fault, err error) faults.Fault {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	want := map[string]faults.Fault{
		"pod-kill":          build(DeletePods(client, testNS, stableSel)),
		"bad-image":         build(BadImage(client, testNS, appDeployment, "x:1")),
		"crashloop":         build(CrashLoopConfig(client, testNS, appDeployment)),
		"unready":           build(Unready(client, testNS, stableSel)),
		"config-drift":      build(ConfigDrift(client, testNS, "cfg", map[string]string{"k": "v"})),
		"network-partition": build(IptablesPartition(client, nopExec, testNS, stableSel, 8080)),
	}
	for name, f := range want {
		if f.Name() != name || f.Backend() != "native" {
			t.Errorf("%T names itself %s (%s), want %s (native)", f, f.Name(), f.Backend(), name)
		}
	}
}

// TestRecoverAndVerifyBeforeInject checks that cleanup can call Recover and
// Verify on a fault whose Inject never ran, without touching the cluster.
func TestRecoverAndVerifyBeforeInject(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t)
	exec := func(_ context.Context, args ...string) (string, error) {
		t.Errorf("ran %q before Inject", args)
		return "", nil
	}
	fs := []faults.Fault{}
	for _, mk := range []func() (faults.Fault, error){
		func() (faults.Fault, error) { return DeletePods(client, testNS, stableSel) },
		func() (faults.Fault, error) { return BadImage(client, testNS, appDeployment, "x:1") },
		func() (faults.Fault, error) { return CrashLoopConfig(client, testNS, appDeployment) },
		func() (faults.Fault, error) { return Unready(client, testNS, stableSel) },
		func() (faults.Fault, error) { return ConfigDrift(client, testNS, "cfg", map[string]string{"k": "v"}) },
		func() (faults.Fault, error) { return IptablesPartition(client, exec, testNS, stableSel, 8080) },
	} {
		f, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	for _, f := range fs {
		if err := f.Recover(ctx); err != nil {
			t.Errorf("%s: Recover() before Inject = %v", f.Name(), err)
		}
		if err := f.Verify(ctx); err != nil {
			t.Errorf("%s: Verify() before Inject = %v", f.Name(), err)
		}
	}
	if n := len(client.Actions()); n != 0 {
		t.Errorf("Recover and Verify before Inject made %d API call(s): %v", n, client.Actions())
	}
}
