package kube

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// PodReady reports whether a pod is Running, not terminating, and Ready.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodCondition is evaluated against the full list of matching pods each time
// one of them changes. It returns true when the wait is over.
type PodCondition func(pods []*corev1.Pod) (bool, error)

// WaitPods watches the pods of a namespace that match selector and returns
// the instant the condition first held. The instant is taken when the event
// that made it hold arrived, not after a poll interval.
func WaitPods(ctx context.Context, client kubernetes.Interface, ns, selector string, cond PodCondition) (time.Time, error) {
	pods := client.CoreV1().Pods(ns)
	lw := labelListWatch(selector, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return pods.List(ctx, o) }, pods.Watch)
	at, err := waitList(ctx, client, lw, &corev1.Pod{}, cond)
	if err != nil {
		return time.Time{}, fmt.Errorf("pods %q in %s: %w", selector, ns, err)
	}
	return at, nil
}

// WaitReplicaSets watches the ReplicaSets of a namespace that match
// selector and returns the instant cond first held over all of them.
func WaitReplicaSets(ctx context.Context, client kubernetes.Interface, ns, selector string, cond func([]*appsv1.ReplicaSet) (bool, error)) (time.Time, error) {
	sets := client.AppsV1().ReplicaSets(ns)
	lw := labelListWatch(selector, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return sets.List(ctx, o) }, sets.Watch)
	at, err := waitList(ctx, client, lw, &appsv1.ReplicaSet{}, cond)
	if err != nil {
		return time.Time{}, fmt.Errorf("replica sets %q in %s: %w", selector, ns, err)
	}
	return at, nil
}

// WaitEndpointSlices watches the EndpointSlices of one Service and returns
// the instant cond first held over all of them.
func WaitEndpointSlices(ctx context.Context, client kubernetes.Interface, ns, service string, cond func([]*discoveryv1.EndpointSlice) (bool, error)) (time.Time, error) {
	selector := discoveryv1.LabelServiceName + "=" + service
	slices := client.DiscoveryV1().EndpointSlices(ns)
	lw := labelListWatch(selector, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return slices.List(ctx, o) }, slices.Watch)
	at, err := waitList(ctx, client, lw, &discoveryv1.EndpointSlice{}, cond)
	if err != nil {
		return time.Time{}, fmt.Errorf("endpoint slices of service %s/%s: %w", ns, service, err)
	}
	return at, nil
}

// labelListWatch lists and watches the objects matching a label selector.
func labelListWatch(selector string, list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return watchFn(ctx, o)
		},
	}
}

// waitList runs cond over the full list of watched objects each time one of
// them changes and returns the instant it first held. The informer updates
// its store before it hands out the event, so the store seen by each call
// already includes that event.
func waitList[T runtime.Object](ctx context.Context, client kubernetes.Interface, lw *cache.ListWatch, example T, cond func([]T) (bool, error)) (time.Time, error) {
	var store cache.Store
	var at time.Time
	check := func() (bool, error) {
		objs := store.List()
		items := make([]T, 0, len(objs))
		for _, o := range objs {
			items = append(items, o.(T))
		}
		ok, err := cond(items)
		if ok {
			at = time.Now()
		}
		return ok, err
	}
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, client), example, func(s cache.Store) (bool, error) {
		store = s
		return check()
	}, func(watch.Event) (bool, error) { return check() })
	if err != nil {
		return time.Time{}, waitError(ctx, err)
	}
	return at, nil
}

// waitError makes a wait that ended with its context report the context's
// cause (such as context.DeadlineExceeded), which client-go's own "timed out
// waiting for the condition" hides from errors.Is.
func waitError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%v: %w", err, context.Cause(ctx))
	}
	return err
}
