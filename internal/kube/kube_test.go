package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod is a pod of app=web in namespace "drill" with the given phase and
// Ready condition ("" for none).
func pod(name string, phase corev1.PodPhase, ready corev1.ConditionStatus) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "drill", Name: name, Labels: map[string]string{"app": "web"}},
		Status:     corev1.PodStatus{Phase: phase},
	}
	if ready != "" {
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: ready},
		}
	}
	return p
}

func anyReady(pods []*corev1.Pod) (bool, error) {
	for _, p := range pods {
		if PodReady(p) {
			return true, nil
		}
	}
	return false, nil
}

func TestPodReady(t *testing.T) {
	terminating := pod("p", corev1.PodRunning, corev1.ConditionTrue)
	terminating.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	containersOnly := pod("p", corev1.PodRunning, "")
	containersOnly.Status.Conditions = []corev1.PodCondition{{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"running and ready", pod("p", corev1.PodRunning, corev1.ConditionTrue), true},
		{"running, not ready", pod("p", corev1.PodRunning, corev1.ConditionFalse), false},
		{"running, readiness unknown", pod("p", corev1.PodRunning, corev1.ConditionUnknown), false},
		{"running, no conditions", pod("p", corev1.PodRunning, ""), false},
		{"running, only containers ready", containersOnly, false},
		{"pending with a ready condition", pod("p", corev1.PodPending, corev1.ConditionTrue), false},
		{"succeeded with a ready condition", pod("p", corev1.PodSucceeded, corev1.ConditionTrue), false},
		{"terminating", terminating, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodReady(tt.pod); got != tt.want {
				t.Errorf("PodReady() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWaitPodsAlreadyReady(t *testing.T) {
	client := kubetest.FakeClient(t, pod("web-1", corev1.PodRunning, corev1.ConditionTrue))
	before := time.Now()
	at, err := WaitPods(kubetest.Context(t), client, "drill", "app=web", anyReady)
	if err != nil {
		t.Fatalf("WaitPods() = %v", err)
	}
	if at.Before(before) {
		t.Errorf("WaitPods() instant %s is before the call at %s", at, before)
	}
}

func TestWaitPodsBecomesReady(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t)
	readyAt := make(chan time.Time, 1)
	errs := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let WaitPods start watching an empty namespace
		p := pod("web-1", corev1.PodRunning, corev1.ConditionFalse)
		if _, err := client.CoreV1().Pods("drill").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			errs <- err
			return
		}
		time.Sleep(50 * time.Millisecond)
		p.Status.Conditions[1].Status = corev1.ConditionTrue
		readyAt <- time.Now()
		if _, err := client.CoreV1().Pods("drill").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
			errs <- err
		}
	}()

	at, err := WaitPods(ctx, client, "drill", "app=web", anyReady)
	if err != nil {
		t.Fatalf("WaitPods() = %v", err)
	}
	select {
	case err := <-errs:
		t.Fatalf("fake clientset: %v", err)
	case ready := <-readyAt:
		if at.Before(ready) {
			t.Errorf("WaitPods() returned %s, before the pod became Ready at %s", at.Format(time.StampMicro), ready.Format(time.StampMicro))
		}
	default:
		t.Fatalf("WaitPods() returned at %s before the pod was made Ready", at.Format(time.StampMicro))
	}
}

func TestWaitPodsTimeout(t *testing.T) {
	// Ready pods that the selector or the namespace rule out do not count.
	other := pod("web-other", corev1.PodRunning, corev1.ConditionTrue)
	other.Namespace = "elsewhere"
	unlabelled := pod("db-1", corev1.PodRunning, corev1.ConditionTrue)
	unlabelled.Labels = map[string]string{"app": "db"}
	client := kubetest.FakeClient(t, other, unlabelled, pod("web-1", corev1.PodPending, corev1.ConditionFalse))

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	at, err := WaitPods(ctx, client, "drill", "app=web", anyReady)
	if err == nil {
		t.Fatalf("WaitPods() = %s, nil; want an error when the context ends", at)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("WaitPods() took %s to notice the 200ms deadline", elapsed)
	}
	if !at.IsZero() {
		t.Errorf("WaitPods() instant = %s, want zero on error", at)
	}
	if !strings.Contains(err.Error(), `"app=web"`) || !strings.Contains(err.Error(), "drill") {
		t.Errorf("WaitPods() error = %q, want it to name the selector and namespace", err)
	}
}

func TestWaitPodsConditionError(t *testing.T) {
	boom := errors.New("boom")
	client := kubetest.FakeClient(t, pod("web-1", corev1.PodRunning, corev1.ConditionTrue))
	_, err := WaitPods(kubetest.Context(t), client, "drill", "app=web", func([]*corev1.Pod) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Errorf("WaitPods() = %v, want the condition's error", err)
	}
}

func TestWaitDeploymentNotYetCreated(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t)
	errs := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let WaitDeployment start on an empty namespace
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "drill", Name: "web"}}
		dep.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
		_, err := client.AppsV1().Deployments("drill").Create(ctx, dep, metav1.CreateOptions{})
		errs <- err
	}()
	at, err := WaitDeployment(ctx, client, "drill", "web", func(d *appsv1.Deployment) (bool, error) {
		return len(d.Status.Conditions) > 0, nil
	})
	if err != nil || at.IsZero() {
		t.Fatalf("WaitDeployment() = %s, %v; want an instant", at, err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("fake clientset: %v", err)
	}
}
