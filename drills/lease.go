package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/faults"
)

// Every run holds a Lease in LeaseNamespace, renewed while it lives. A run
// whose Lease expired (or that has none) is dead, and `firedrill cleanup`
// or the next suite's sweep removes what it left.
const (
	LeaseNamespace = "firedrill-runs"
	// LeaseDuration is how long a Lease outlives its last renewal.
	LeaseDuration = 30 * time.Second
	leaseRenew    = 10 * time.Second
	// leaseNodePrefix marks, in a Lease's annotations, a kind node the run
	// paused or stopped and has not brought back yet.
	leaseNodePrefix = "firedrill.dev/node."
)

// LeaseName is the Lease of run id.
func LeaseName(runID string) string { return "run-" + runID }

// RunLease is this run's Lease, renewed in the background until Release.
type RunLease struct {
	client kubernetes.Interface
	runID  string
	stop   context.CancelFunc
	done   chan struct{}
}

// HoldRunLease creates the run's Lease (and its namespace when missing),
// and renews it every 10 s until Release or until ctx's values' process
// ends. Create it before anything else the run makes.
func HoldRunLease(ctx context.Context, client kubernetes.Interface, runID string) (*RunLease, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: LeaseNamespace, Labels: map[string]string{"app.kubernetes.io/part-of": "firedrill"}}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("run lease: create namespace %s: %w", LeaseNamespace, err)
	}
	host, _ := os.Hostname()
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(runID), Labels: map[string]string{LabelRun: runID}},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(fmt.Sprintf("%s/%d", host, os.Getpid())),
			LeaseDurationSeconds: ptr.To(int32(LeaseDuration.Seconds())),
			AcquireTime:          &now, RenewTime: &now,
		},
	}
	if _, err := client.CoordinationV1().Leases(LeaseNamespace).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("run lease %s: %w", LeaseName(runID), err)
	}
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &RunLease{client: client, runID: runID, stop: stop, done: make(chan struct{})}
	go l.renew(life)
	return l, nil
}

func (l *RunLease) renew(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			patch := fmt.Appendf(nil, `{"spec":{"renewTime":%q}}`, metav1.NewMicroTime(time.Now()).Format(metav1.RFC3339Micro))
			_, _ = l.client.CoordinationV1().Leases(LeaseNamespace).Patch(ctx, LeaseName(l.runID), types.MergePatchType, patch, metav1.PatchOptions{})
		}
	}
}

// Release stops renewing and deletes the Lease: the run is over and has
// cleaned up after itself.
func (l *RunLease) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	err := l.client.CoordinationV1().Leases(LeaseNamespace).Delete(ctx, LeaseName(l.runID), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("release run lease: %w", err)
	}
	return nil
}

// expired reports whether a Lease was last renewed longer ago than its
// duration.
func expired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second))
}

// NodesOnLease wraps a node control so that every node a run pauses or
// stops is written on the run's Lease first, and struck off once it is
// back: a run that dies in between leaves the node named where cleanup
// finds it. Any process of the run may call it.
func NodesOnLease(nodes faults.NodeControl, client kubernetes.Interface, runID string) faults.NodeControl {
	return &leaseNodes{NodeControl: nodes, client: client, runID: runID}
}

type leaseNodes struct {
	faults.NodeControl
	client kubernetes.Interface
	runID  string
	mu     sync.Mutex
}

func (n *leaseNodes) NodeAction(ctx context.Context, action, node string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch action {
	case "pause", "stop":
		if err := n.note(ctx, node, action); err != nil {
			return err
		}
		return n.NodeControl.NodeAction(ctx, action, node)
	}
	if err := n.NodeControl.NodeAction(ctx, action, node); err != nil {
		return err
	}
	return n.note(ctx, node, "")
}

// note sets (or, with action "", removes) the node's annotation.
func (n *leaseNodes) note(ctx context.Context, node, action string) error {
	var value any = action
	if action == "" {
		value = nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{leaseNodePrefix + node: value}}})
	if err != nil {
		return err
	}
	_, err = n.client.CoordinationV1().Leases(LeaseNamespace).Patch(ctx, LeaseName(n.runID), types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("note node %s on run lease: %w", node, err)
	}
	return nil
}

// leaseNodes lists the nodes a Lease says its run paused or stopped, with
// the action that undoes each.
func leasedNodes(l *coordinationv1.Lease) map[string]string {
	out := map[string]string{}
	for k, v := range l.Annotations {
		if node, ok := strings.CutPrefix(k, leaseNodePrefix); ok {
			out[node] = map[string]string{"pause": "unpause", "stop": "start"}[v]
			if out[node] == "" {
				delete(out, node)
			}
		}
	}
	return out
}
