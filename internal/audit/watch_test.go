package audit

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

func object(kind string, fields ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"replicas": int64(0)}}}
	u.SetKind(kind)
	u.SetName("app")
	u.SetNamespace("drill-x")
	u.SetResourceVersion("42")
	u.SetManagedFields(fields)
	return u
}

func field(manager, sub string, at time.Time) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Subresource: sub, Time: &metav1.Time{Time: at}}
}

// A change is attributed to the newest managedFields entry; status reports
// are dropped except where status is the action (a Rollout, a Canary).
func TestEntryOf(t *testing.T) {
	t0 := time.Now().Truncate(time.Second)
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	scaled := object("Deployment", field("firedrill-drill-1", "", t0), field("flagger", "", t0.Add(time.Second)))
	e, ok := entryOf(watch.Modified, deployments, scaled)
	if !ok || e.Manager != "flagger" || e.Detail != "replicas 0" || e.RVAfter != "42" || e.Ref.String() != "drill-x: deployments.apps/app" {
		t.Errorf("scale = %+v, %t; want flagger's, replicas 0", e, ok)
	}
	reported := object("Deployment", field("flagger", "", t0), field("kube-controller-manager", "status", t0.Add(time.Second)))
	if _, ok := entryOf(watch.Modified, deployments, reported); ok {
		t.Error("a Deployment's status report was kept")
	}
	rollouts := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}
	if e, ok := entryOf(watch.Modified, rollouts, object("Rollout", field("rollouts-controller", "status", t0))); !ok || e.Ref.Subresource != "status" {
		t.Errorf("a Rollout's status change = %+v, %t; want it kept", e, ok)
	}
	if e, _ := entryOf(watch.Deleted, deployments, scaled); e.Manager != "" || e.Verb != "DELETED" {
		t.Errorf("delete = %+v, want no manager (the API server does not say who deleted)", e)
	}
}
