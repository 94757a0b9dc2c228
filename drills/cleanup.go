package drills

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// Cleanup stops the background work and deletes the drill namespace, then
// waits until it is gone. It is safe to call at any point, more than once.
func (d *Drill) Cleanup(ctx context.Context) error {
	d.stopLife()
	d.observer.Stop()
	if d.t0.IsZero() {
		return nil
	}
	defer d.rewriteAudit()
	return phase(ctx, "cleanup", d.opts.Timeouts.Cleanup, func(ctx context.Context) error {
		faultErr := d.recoverFaults(ctx)
		return errors.Join(faultErr, DeleteNamespace(ctx, d.cluster.Client, d.Namespace))
	})
}

// DeleteNamespace deletes a namespace and waits until the API no longer has it.
func DeleteNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	err := client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	return wait.PollUntilContextCancel(ctx, pollEvery*5, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// DrillNamespaces lists the drill namespaces left in the cluster, optionally
// only those of one run (runID != "").
func DrillNamespaces(ctx context.Context, client kubernetes.Interface, runID string) ([]string, error) {
	selector := LabelDrill + "=true"
	if runID != "" {
		selector += "," + LabelRun + "=" + runID
	}
	list, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	return names, nil
}

// noteNeighbours records how many other drills of the same run are running
// now (their namespaces exist and are not being deleted), keeping the most
// seen, so the report says how loaded the host was while this drill
// measured. Errors are ignored: the count is context, not a measurement.
func (d *Drill) noteNeighbours(ctx context.Context) {
	if d.opts.RunID == "" {
		return
	}
	list, err := d.cluster.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelDrill + "=true," + LabelRun + "=" + d.opts.RunID})
	if err != nil {
		return
	}
	n := 0
	for _, ns := range list.Items {
		if ns.Name != d.Namespace && ns.DeletionTimestamp == nil {
			n++
		}
	}
	d.mu.Lock()
	d.concurrent = max(d.concurrent, n)
	d.mu.Unlock()
}
