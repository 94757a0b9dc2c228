package audit

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// statusMatters are the resources whose status changes are actions worth
// a line (a Rollout aborted, a Canary failed); other status changes are
// Kubernetes reporting, not acting.
var statusMatters = []string{"rollouts", "canaries", "analysisruns"}

// Watch records into log, until ctx ends, every change to the resources in
// namespace ns that the API server attributes to a manager other than
// self. A resource the cluster does not serve is skipped.
func Watch(ctx context.Context, dyn dynamic.Interface, ns string, gvrs []schema.GroupVersionResource, self string, log *Log) {
	for _, gvr := range gvrs {
		go watchOne(ctx, dyn.Resource(gvr).Namespace(ns), gvr, func(e Entry) bool { return e.Manager != self }, log)
	}
}

// Attributed records into log, until ctx ends, the changes the API server
// attributes to manager: how a test checks a drill's own log against the
// API server.
func Attributed(ctx context.Context, dyn dynamic.Interface, ns string, gvrs []schema.GroupVersionResource, manager string, log *Log) {
	for _, gvr := range gvrs {
		go watchOne(ctx, dyn.Resource(gvr).Namespace(ns), gvr, func(e Entry) bool { return e.Manager == manager }, log)
	}
}

func watchOne(ctx context.Context, res dynamic.ResourceInterface, gvr schema.GroupVersionResource, keep func(Entry) bool, log *Log) {
	open := func(ctx context.Context, rv string) (watch.Interface, error) {
		return res.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
	}
	kube.Follow(ctx, open, func(ev watch.Event) string {
		obj, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			return ""
		}
		if ev.Type != watch.Bookmark {
			if e, ok := entryOf(ev.Type, gvr, obj); ok && keep(e) {
				log.Add(e)
			}
		}
		return obj.GetResourceVersion()
	})
}

// entryOf is a watch event as an entry, attributed to the newest
// managedFields entry; ok is false for a status change that is only
// Kubernetes reporting.
func entryOf(t watch.EventType, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (Entry, bool) {
	e := Entry{At: time.Now(), Source: SourceWatch, Verb: string(t), RVAfter: obj.GetResourceVersion(),
		Ref: Ref{Group: gvr.Group, Resource: gvr.Resource, Namespace: obj.GetNamespace(), Name: obj.GetName()}}
	var newest metav1.ManagedFieldsEntry
	for _, m := range obj.GetManagedFields() {
		if newest.Time == nil || (m.Time != nil && !m.Time.Before(newest.Time)) {
			newest = m
		}
	}
	e.Manager, e.Operation, e.Ref.Subresource = newest.Manager, string(newest.Operation), newest.Subresource
	if t == watch.Deleted {
		e.Manager, e.Operation, e.Ref.Subresource = "", "", ""
	}
	e.Detail = detailOf(obj)
	if newest.Subresource == "status" && !slices.Contains(statusMatters, gvr.Resource) {
		return e, false
	}
	return e, true
}

// detailOf says what the object now asks for, where that is short.
func detailOf(obj *unstructured.Unstructured) string {
	if n, ok, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas"); ok {
		return fmt.Sprintf("replicas %d", n)
	}
	if sel, ok, _ := unstructured.NestedStringMap(obj.Object, "spec", "selector"); ok && obj.GetKind() == "Service" {
		return fmt.Sprintf("selector %v", sel)
	}
	if phase, ok, _ := unstructured.NestedString(obj.Object, "status", "phase"); ok {
		return "phase " + phase
	}
	return ""
}
