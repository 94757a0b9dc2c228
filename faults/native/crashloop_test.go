package native

import (
	"slices"
	"testing"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// crashPod is a pod whose app container has env and the given current and
// last states.
func crashPod(name string, env []corev1.EnvVar, state, last corev1.ContainerState) *corev1.Pod {
	p := appPod(name, false, goodImage)
	p.Spec.Containers[0].Env = env
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: state, LastTerminationState: last}}
	return p
}

func exited(code int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}
}

var (
	crashOn    = []corev1.EnvVar{{Name: "VERSION", Value: "v1"}, {Name: crashEnv, Value: "true"}}
	backingOff = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
)

func TestCrashLoopConfigLifecycle(t *testing.T) {
	ctx := kubetest.Context(t)
	// The Deployment already names the knob, switched off: Recover must put
	// it back as it was, not delete it.
	original := []corev1.EnvVar{{Name: "VERSION", Value: "v1"}, {Name: crashEnv, Value: "false"}, {Name: "LATENCY", Value: "0s"}}
	client := kubetest.FakeClient(t, appDeploymentObj(original...), appPod("app-1", true, goodImage))
	f, err := CrashLoopConfig(client, testNS, appDeployment)
	if err != nil {
		t.Fatal(err)
	}

	crashing := whenDeployment(ctx, client, func(d *appsv1.Deployment) bool {
		return slices.Contains(d.Spec.Template.Spec.Containers[0].Env, corev1.EnvVar{Name: crashEnv, Value: "true"})
	}, func() error {
		_, err := client.CoreV1().Pods(testNS).Create(ctx, crashPod("app-crash", crashOn, backingOff, exited(1)), metav1.CreateOptions{})
		return err
	})
	if _, err := f.Inject(ctx); err != nil {
		t.Fatalf("Inject() = %v", err)
	}
	if err := <-crashing; err != nil {
		t.Fatal(err)
	}
	want := []corev1.EnvVar{{Name: "VERSION", Value: "v1"}, {Name: crashEnv, Value: "true"}, {Name: "LATENCY", Value: "0s"}}
	if got := d0Env(t, client); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("env after Inject = %v, want %v (merged by name)", got, want)
	}
	wantErr(t, f.Verify(ctx), "native: crashloop: verify: env of", "CRASH_ON_START=true")

	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if got := d0Env(t, client); !equality.Semantic.DeepEqual(got, original) {
		t.Errorf("env after Recover = %v, want the original %v", got, original)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after Recover = %v", err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
	dep, err := client.AppsV1().Deployments(testNS).Get(ctx, appDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if side := dep.Spec.Template.Spec.Containers[1]; !slices.Equal(side.Env, []corev1.EnvVar{{Name: "SIDE", Value: "car"}}) {
		t.Errorf("sidecar env = %v, want it untouched", side.Env)
	}
}

func TestCrashLoopConfigRecoverRemovesAddedVariable(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appDeploymentObj())
	f, err := CrashLoopConfig(client, testNS, appDeployment)
	if err != nil {
		t.Fatal(err)
	}
	crashing := whenDeployment(ctx, client, func(d *appsv1.Deployment) bool {
		return len(d.Spec.Template.Spec.Containers[0].Env) > 0
	}, func() error {
		_, err := client.CoreV1().Pods(testNS).Create(ctx, crashPod("app-crash", crashOn, exited(2), corev1.ContainerState{}), metav1.CreateOptions{})
		return err
	})
	if _, err := f.Inject(ctx); err != nil {
		t.Fatalf("Inject() = %v", err)
	}
	if err := <-crashing; err != nil {
		t.Fatal(err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if env := d0Env(t, client); len(env) != 0 {
		t.Errorf("env after Recover = %v, want none as before", env)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}

func TestCrashed(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"running with the knob", crashPod("p", crashOn, running, corev1.ContainerState{}), false},
		{"clean exit with the knob", crashPod("p", crashOn, exited(0), exited(0)), false},
		{"error exit now", crashPod("p", crashOn, exited(1), corev1.ContainerState{}), true},
		{"back-off after an error exit", crashPod("p", crashOn, backingOff, exited(1)), true},
		{"error exit without the knob", crashPod("p", []corev1.EnvVar{{Name: crashEnv, Value: "false"}}, backingOff, exited(1)), false},
		{"no container statuses yet", crashPod("p", crashOn, corev1.ContainerState{}, corev1.ContainerState{}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := crashed([]*corev1.Pod{tt.pod}); got != tt.want {
				t.Errorf("crashed() = %v, want %v", got, tt.want)
			}
		})
	}
}

// d0Env returns the app container's env of the test Deployment.
func d0Env(t *testing.T, client *fake.Clientset) []corev1.EnvVar {
	t.Helper()
	dep, err := client.AppsV1().Deployments(testNS).Get(t.Context(), appDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dep.Spec.Template.Spec.Containers[0].Env
}
