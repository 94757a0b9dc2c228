package kube

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// badWaiting are the waiting reasons that mean a container will not come up
// by itself: it crashes, or its image cannot be pulled.
var badWaiting = map[string]bool{
	"CrashLoopBackOff": true, "ErrImagePull": true, "ImagePullBackOff": true,
	"ErrImageNeverPull": true, "InvalidImageName": true,
}

// Crashed is the one rule for "a container crashed": it exited with a
// non-zero code, now or in its last run. The zero-restart case counts, so
// that onset is seen at the first crash, before kubelet restarts it.
func Crashed(s corev1.ContainerStatus) (int32, bool) {
	for _, t := range []*corev1.ContainerStateTerminated{s.State.Terminated, s.LastTerminationState.Terminated} {
		if t != nil && t.ExitCode != 0 {
			return t.ExitCode, true
		}
	}
	return 0, false
}

// CannotStart names why a container will not come up by itself
// (CrashLoopBackOff, an image that cannot be pulled), or "".
func CannotStart(s corev1.ContainerStatus) string {
	if w := s.State.Waiting; w != nil && badWaiting[w.Reason] {
		return w.Reason
	}
	return ""
}

// FirstCrash describes the first pod, by name, with a container that
// crashed or cannot start, or returns "". A pod being deleted is skipped: its
// containers exit because they were told to, not because they crashed.
func FirstCrash(pods []*corev1.Pod) string {
	sorted := append([]*corev1.Pod(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, p := range sorted {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.ContainerStatuses {
			if reason := CannotStart(c); reason != "" {
				return fmt.Sprintf("pod %s is in %s", p.Name, reason)
			}
			if code, ok := Crashed(c); ok {
				return fmt.Sprintf("pod %s container %s crashed (exit %d, %d restart(s))", p.Name, c.Name, code, c.RestartCount)
			}
		}
	}
	return ""
}

// CrashedAt returns the earliest finishedAt of a crashed container among
// pods that are not being deleted, or zero. finishedAt is a kubelet
// timestamp truncated to the second.
func CrashedAt(pods []*corev1.Pod) time.Time {
	var first time.Time
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.ContainerStatuses {
			for _, t := range []*corev1.ContainerStateTerminated{c.State.Terminated, c.LastTerminationState.Terminated} {
				if t != nil && t.ExitCode != 0 && !t.FinishedAt.IsZero() && (first.IsZero() || t.FinishedAt.Time.Before(first)) {
					first = t.FinishedAt.Time
				}
			}
		}
	}
	return first
}
