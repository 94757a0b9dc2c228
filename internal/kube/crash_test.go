package kube

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func crashPod(name string, c corev1.ContainerStatus) *corev1.Pod {
	c.Name = "app"
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{c}}}
}

func waiting(reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func exited(code, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		RestartCount:         restarts,
		State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}},
	}
}

func TestFirstCrash(t *testing.T) {
	healthy := crashPod("ok", corev1.ContainerStatus{Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	deleting := crashPod("deleting", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}})
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	tests := []struct {
		name string
		pods []*corev1.Pod
		want []string // substrings of the description; nil for no crash
	}{
		{"no pods", nil, nil},
		{"healthy", []*corev1.Pod{healthy}, nil},
		{"creating", []*corev1.Pod{crashPod("new", waiting("ContainerCreating"))}, nil},
		{"no container statuses yet", []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "pending"}}}, nil},
		{"restarted after a clean exit", []*corev1.Pod{crashPod("clean", exited(0, 1))}, nil},
		{"a pod being deleted exits because it was told to", []*corev1.Pod{deleting}, nil},
		{"error exit before any restart", []*corev1.Pod{crashPod("once", exited(1, 0))}, []string{"once", "exit 1", "0 restart(s)"}},
		{"CrashLoopBackOff", []*corev1.Pod{healthy, crashPod("loop", waiting("CrashLoopBackOff"))}, []string{"pod loop is in CrashLoopBackOff"}},
		{"image cannot be pulled", []*corev1.Pod{crashPod("pull", waiting("ErrImagePull"))}, []string{"pod pull is in ErrImagePull"}},
		{"terminated with an error and restarted", []*corev1.Pod{crashPod("exit", exited(2, 4))}, []string{"exit", "exit 2", "4 restart(s)"}},
		{"first crashing pod by name", []*corev1.Pod{crashPod("b", waiting("CrashLoopBackOff")), crashPod("a", waiting("CrashLoopBackOff"))}, []string{"pod a "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FirstCrash(tt.pods)
			if tt.want == nil {
				if got != "" {
					t.Errorf("FirstCrash() = %q, want no crash", got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("FirstCrash() = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
