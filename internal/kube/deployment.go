package kube

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// WaitDeployment watches one Deployment and returns the instant cond first
// held. A Deployment that does not exist yet is waited for.
func WaitDeployment(ctx context.Context, client kubernetes.Interface, ns, name string, cond func(*appsv1.Deployment) (bool, error)) (time.Time, error) {
	deps := client.AppsV1().Deployments(ns)
	lw := namedListWatch(name, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return deps.List(ctx, o) }, deps.Watch)
	at, err := waitOne(ctx, client, lw, &appsv1.Deployment{}, cond)
	if err != nil {
		return at, fmt.Errorf("deployment %s/%s: %w", ns, name, err)
	}
	return at, nil
}

// WaitService watches one Service and returns the instant cond first held.
func WaitService(ctx context.Context, client kubernetes.Interface, ns, name string, cond func(*corev1.Service) (bool, error)) (time.Time, error) {
	svcs := client.CoreV1().Services(ns)
	lw := namedListWatch(name, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return svcs.List(ctx, o) }, svcs.Watch)
	at, err := waitOne(ctx, client, lw, &corev1.Service{}, cond)
	if err != nil {
		return at, fmt.Errorf("service %s/%s: %w", ns, name, err)
	}
	return at, nil
}

// namedListWatch lists and watches the one object called name.
func namedListWatch(name string, list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return watchFn(ctx, o)
		},
	}
}

// waitOne runs cond on the watched object at the first list and on every
// change but deletion, and returns the instant it first held.
func waitOne[T runtime.Object](ctx context.Context, client kubernetes.Interface, lw *cache.ListWatch, example T, cond func(T) (bool, error)) (time.Time, error) {
	var at time.Time
	check := func(obj runtime.Object) (bool, error) {
		o, ok := obj.(T)
		if !ok {
			return false, nil
		}
		done, err := cond(o)
		if done {
			at = time.Now()
		}
		return done, err
	}
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, client), example, func(s cache.Store) (bool, error) {
		for _, o := range s.List() {
			if done, err := check(o.(runtime.Object)); done || err != nil {
				return done, err
			}
		}
		return false, nil
	}, func(ev watch.Event) (bool, error) {
		if ev.Type == watch.Deleted {
			return false, nil
		}
		return check(ev.Object)
	})
	if err != nil {
		return time.Time{}, waitError(ctx, err)
	}
	return at, nil
}
