package kube

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
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
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return client.AppsV1().Deployments(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return client.AppsV1().Deployments(ns).Watch(ctx, o)
		},
	}
	var at time.Time
	check := func(obj runtime.Object) (bool, error) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok {
			return false, nil
		}
		done, err := cond(d)
		if done {
			at = time.Now()
		}
		return done, err
	}
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, client), &appsv1.Deployment{}, func(s cache.Store) (bool, error) {
		for _, o := range s.List() {
			if done, err := check(o.(*appsv1.Deployment)); done || err != nil {
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
		return time.Time{}, fmt.Errorf("deployment %s/%s: %w", ns, name, waitError(ctx, err))
	}
	return at, nil
}
