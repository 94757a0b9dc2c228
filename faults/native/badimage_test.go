package native

import (
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const badImage = "firedrill/does-not-exist:v0"

// pullingPod is a pod of the new ReplicaSet whose image cannot be pulled.
func pullingPod(name, reason string) *corev1.Pod {
	p := appPod(name, false, badImage)
	p.Status.Phase = corev1.PodPending
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "app", Image: badImage,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}},
	}}
	return p
}

func TestBadImageLifecycle(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appDeploymentObj(), appPod("app-1", true, goodImage))
	f, err := BadImage(client, testNS, appDeployment, badImage)
	if err != nil {
		t.Fatal(err)
	}

	// The Deployment controller rolls out the bad image; the kubelet cannot
	// pull it.
	var pulled time.Time
	rolled := whenDeployment(ctx, client, func(d *appsv1.Deployment) bool { return appImage(d) == badImage }, func() error {
		time.Sleep(30 * time.Millisecond)
		pulled = time.Now()
		_, err := client.CoreV1().Pods(testNS).Create(ctx, pullingPod("app-bad", "ErrImagePull"), metav1.CreateOptions{})
		return err
	})
	onset, err := f.Inject(ctx)
	if err != nil {
		t.Fatalf("Inject() = %v", err)
	}
	if err := <-rolled; err != nil {
		t.Fatal(err)
	}
	if onset.Before(pulled) {
		t.Errorf("onset %s is before the pull failed at %s", onset.Format(time.StampMicro), pulled.Format(time.StampMicro))
	}
	dep, err := client.AppsV1().Deployments(testNS).Get(ctx, appDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if side := dep.Spec.Template.Spec.Containers[1]; side.Image != "example/sidecar:1" {
		t.Errorf("patch changed the sidecar image to %s", side.Image)
	}
	wantErr(t, f.Verify(ctx), "native: bad-image: verify: deployment", "runs "+badImage)

	// Rolling back, the controller removes the bad pod.
	reverted := whenDeployment(ctx, client, func(d *appsv1.Deployment) bool { return appImage(d) == goodImage }, func() error {
		time.Sleep(30 * time.Millisecond)
		return client.CoreV1().Pods(testNS).Delete(ctx, "app-bad", metav1.DeleteOptions{})
	})
	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if err := <-reverted; err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after Recover = %v", err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
}

func TestBadImageVerifyFindsStrayPod(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appDeploymentObj(), appPod("app-1", true, goodImage), pullingPod("app-bad", "ImagePullBackOff"))
	f, err := BadImage(client, testNS, appDeployment, badImage)
	if err != nil {
		t.Fatal(err)
	}
	f.original = goodImage // as if injected
	wantErr(t, f.Verify(ctx), "native: bad-image: verify: pod(s) [app-bad] do not run "+goodImage)
}

func TestBadImageRefusesTheRunningImage(t *testing.T) {
	client := kubetest.FakeClient(t, appDeploymentObj())
	f, err := BadImage(client, testNS, appDeployment, goodImage)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Inject(kubetest.Context(t))
	wantErr(t, err, "already runs "+goodImage)
	if err := f.Recover(t.Context()); err != nil {
		t.Errorf("Recover() after a refused Inject = %v", err)
	}
}

func TestBadImageMissingDeployment(t *testing.T) {
	f, err := BadImage(kubetest.FakeClient(t), testNS, appDeployment, badImage)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Inject(kubetest.Context(t))
	wantErr(t, err, "native: bad-image: get deployment "+testNS+"/"+appDeployment)
}

func TestBadImagePulling(t *testing.T) {
	f := &BadImageFault{image: badImage}
	running := appPod("app-1", true, goodImage)
	oldCrash := appPod("app-old", false, goodImage)
	oldCrash.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}}
	tests := []struct {
		name string
		pods []*corev1.Pod
		want bool
	}{
		{"old pods only", []*corev1.Pod{running}, false},
		{"old pod with a pull error", []*corev1.Pod{oldCrash}, false},
		{"new pod creating", []*corev1.Pod{pullingPod("app-bad", "ContainerCreating")}, false},
		{"ErrImagePull", []*corev1.Pod{running, pullingPod("app-bad", "ErrImagePull")}, true},
		{"ImagePullBackOff", []*corev1.Pod{pullingPod("app-bad", "ImagePullBackOff")}, true},
		{"ErrImageNeverPull", []*corev1.Pod{pullingPod("app-bad", "ErrImageNeverPull")}, true},
		{"InvalidImageName", []*corev1.Pod{pullingPod("app-bad", "InvalidImageName")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := f.pulling(tt.pods); got != tt.want {
				t.Errorf("pulling() = %v, want %v", got, tt.want)
			}
		})
	}
}
