package drills

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// podEffect returns the data-plane check of a PodChaos kind.
func (d *Drill) podEffect(kind string, labels map[string]string) (func(context.Context) error, error) {
	switch kind {
	case FaultPodFailure:
		return d.podsUnready(labels), nil
	case FaultContainerKill:
		return d.containersRestarted(labels)
	}
	return d.podsReplaced(labels)
}

// podsUnready passes once every pod matching labels is not Ready.
func (d *Drill) podsUnready(labels map[string]string) func(context.Context) error {
	selector := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels})
	return func(ctx context.Context) error {
		_, err := kube.WaitPods(ctx, d.cluster.Client, d.Namespace, selector, func(pods []*corev1.Pod) (bool, error) {
			return len(pods) > 0 && !slices.ContainsFunc(pods, kube.PodReady), nil
		})
		return err
	}
}

// containersRestarted snapshots the restart counts of the pods matching
// labels and passes once one of them has restarted.
func (d *Drill) containersRestarted(labels map[string]string) (func(context.Context) error, error) {
	selector := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels})
	list, err := d.cluster.Client.CoreV1().Pods(d.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	before := map[types.UID]int32{}
	for _, p := range list.Items {
		before[p.UID] = restarts(&p)
	}
	return func(ctx context.Context) error {
		_, err := kube.WaitPods(ctx, d.cluster.Client, d.Namespace, selector, func(pods []*corev1.Pod) (bool, error) {
			return slices.ContainsFunc(pods, func(p *corev1.Pod) bool {
				n, seen := before[p.UID]
				return seen && restarts(p) > n
			}), nil
		})
		return err
	}, nil
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

// podsReplaced snapshots the pods matching labels now and returns a check
// that passes once none of them exists anymore: the data-plane evidence
// that a pod-kill happened.
func (d *Drill) podsReplaced(labels map[string]string) (func(context.Context) error, error) {
	selector := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels})
	list, err := d.cluster.Client.CoreV1().Pods(d.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var before []types.UID
	for _, p := range list.Items {
		before = append(before, p.UID)
	}
	if len(before) == 0 {
		return nil, fmt.Errorf("no pod matches %s to kill", selector)
	}
	return func(ctx context.Context) error {
		_, err := kube.WaitPods(ctx, d.cluster.Client, d.Namespace, selector, func(pods []*corev1.Pod) (bool, error) {
			return !slices.ContainsFunc(pods, func(p *corev1.Pod) bool { return slices.Contains(before, p.UID) }), nil
		})
		return err
	}, nil
}

// recoverFaults removes every injected fault and checks that nothing of it
// is left, recording when it was recovered and whether cleanup was forced.
func (d *Drill) recoverFaults(ctx context.Context) error {
	var problems []string
	for _, p := range d.planned {
		if p.fault == nil {
			continue
		}
		if err := p.fault.Recover(ctx); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := p.fault.Verify(ctx); err != nil {
			problems = append(problems, err.Error())
		}
		d.mu.Lock()
		if p.record.Recovered.IsZero() {
			p.record.Recovered = time.Now()
		}
		if f, ok := p.fault.(interface{ ForcedCleanup() bool }); ok && f.ForcedCleanup() {
			p.record.ForcedCleanup = true
		}
		d.mu.Unlock()
	}
	if len(problems) > 0 {
		return fmt.Errorf("recover faults: %s", strings.Join(problems, "; "))
	}
	return nil
}
