package native

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// DeletePodsFault deletes the Ready pods that match a selector, at once and
// with no grace period, the way a node loss or an OOM storm takes them, and
// leaves their controller to replace them.
type DeletePodsFault struct {
	client   kubernetes.Interface
	ns       string
	selector string

	mu      sync.Mutex
	deleted []podRef
}

var _ faults.Fault = (*DeletePodsFault)(nil)

// DeletePods returns a pod-kill fault on the pods of ns matching selector.
func DeletePods(client kubernetes.Interface, ns, selector string) (*DeletePodsFault, error) {
	const fault = "pod-kill"
	if err := checkCommon(fault, client, ns); err != nil {
		return nil, err
	}
	if err := checkSelector(fault, selector); err != nil {
		return nil, err
	}
	return &DeletePodsFault{client: client, ns: ns, selector: selector}, nil
}

// Name implements faults.Fault.
func (f *DeletePodsFault) Name() string { return "pod-kill" }

// Backend implements faults.Fault.
func (f *DeletePodsFault) Backend() string { return backend }

// Inject deletes the Ready pods and confirms onset when none of them is left
// in the API. A pod deleted with no grace period leaves the API at once, so
// the instant is when the API stopped serving them, not when their
// containers stopped; the observer sees the data-plane side.
func (f *DeletePodsFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pods, err := readyPods(ctx, f.client, f.ns, f.selector)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: pod-kill: %w", err)
	}
	if len(pods) == 0 {
		return time.Time{}, errNoReadyPods(f.Name(), f.ns, f.selector)
	}
	f.deleted = refs(pods)
	for _, p := range f.deleted {
		if err := f.deletePod(ctx, p); err != nil {
			return time.Time{}, err
		}
	}
	at, err := kube.WaitPods(ctx, f.client, f.ns, f.selector, f.goneAll)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: pod-kill: confirm %d pod(s) deleted: %w", len(f.deleted), err)
	}
	return at, nil
}

// deletePod deletes one pod with no grace period. The UID precondition keeps
// a replacement that reused the name (a StatefulSet pod) from being deleted
// too. A pod already gone (NotFound) or replaced under its name (the
// precondition's Conflict) counts as deleted.
func (f *DeletePodsFault) deletePod(ctx context.Context, p podRef) error {
	err := f.client.CoreV1().Pods(f.ns).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &p.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("native: pod-kill: delete pod %s/%s: %w", f.ns, p.Name, err)
	}
	return nil
}

// goneAll holds when no deleted pod is left.
func (f *DeletePodsFault) goneAll(pods []*corev1.Pod) (bool, error) {
	return len(f.survivors(pods)) == 0, nil
}

// survivors names the deleted pods still among pods.
func (f *DeletePodsFault) survivors(pods []*corev1.Pod) []string {
	live := byUID(pods)
	var names []string
	for _, p := range f.deleted {
		if _, ok := live[p.UID]; ok {
			names = append(names, p.Name)
		}
	}
	return names
}

// Recover has nothing to undo: the pods are gone and bringing them back is
// their controller's job, which may rightly not happen (a rollback scales
// the canary to zero). How service coped is the drill's observer's call, so
// Recover does not wait for replacements.
func (f *DeletePodsFault) Recover(context.Context) error { return nil }

// Verify checks that none of the deleted pods is back.
func (f *DeletePodsFault) Verify(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deleted) == 0 {
		return nil
	}
	pods, err := listPods(ctx, f.client, f.ns, f.selector)
	if err != nil {
		return fmt.Errorf("native: pod-kill: verify: %w", err)
	}
	if left := f.survivors(pods); len(left) > 0 {
		return fmt.Errorf("native: pod-kill: verify: deleted pod(s) %v still exist", left)
	}
	return nil
}
