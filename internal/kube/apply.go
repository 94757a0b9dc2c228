package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// FieldManager is the server-side apply field manager of every object
// firedrill applies.
const FieldManager = "firedrill"

// Documents decodes a multi-document YAML (or JSON) stream into objects,
// skipping empty documents. Each error names the document's position.
func Documents(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
}

// Applier applies objects of any kind with server-side apply, finding each
// kind's resource through discovery.
type Applier struct {
	Dynamic dynamic.Interface
	mapper  meta.RESTMapper
	// Labels go on every object applied (the run's label), beside the
	// object's own.
	Labels map[string]string
}

// AddLabels merges labels into obj's own; a label given replaces the
// object's value for the same key.
func AddLabels(obj metav1.Object, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	merged := obj.GetLabels()
	if merged == nil {
		merged = map[string]string{}
	}
	for k, v := range labels {
		merged[k] = v
	}
	obj.SetLabels(merged)
}

// NewApplier reads the API server's resources once.
func NewApplier(disc discovery.DiscoveryInterface, dyn dynamic.Interface) (*Applier, error) {
	groups, err := restmapper.GetAPIGroupResources(disc)
	if err != nil {
		return nil, fmt.Errorf("discover API resources: %w", err)
	}
	return &Applier{Dynamic: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}, nil
}

// Resource returns the client of obj's kind, in obj's namespace when the
// kind is namespaced.
func (a *Applier) Resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return a.Dynamic.Resource(m.Resource), nil
}

// Apply server-side applies obj, taking ownership of conflicting fields.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	if len(a.Labels) > 0 {
		obj = obj.DeepCopy()
		AddLabels(obj, a.Labels)
	}
	res, err := a.Resource(obj)
	if err != nil {
		return err
	}
	if _, err := res.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// ApplyObject applies a typed object (its TypeMeta must be set).
func (a *Applier) ApplyObject(ctx context.Context, obj runtime.Object) error {
	u, err := toUnstructured(obj)
	if err != nil {
		return err
	}
	return a.Apply(ctx, u)
}

// DeleteObject deletes a typed object (its TypeMeta must be set).
func (a *Applier) DeleteObject(ctx context.Context, obj runtime.Object) error {
	u, err := toUnstructured(obj)
	if err != nil {
		return err
	}
	return a.Delete(ctx, u)
}

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}

// Delete deletes obj in the background; one already gone is not an error.
func (a *Applier) Delete(ctx context.Context, obj *unstructured.Unstructured) error {
	res, err := a.Resource(obj)
	if err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	err = res.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// WaitObjects watches the objects of resource gvr in namespace ns (all
// namespaces when ""), selected by label selector, and returns the instant
// cond first held over the full list. Like WaitPods, it runs cond on each
// change, never on a timer.
func WaitObjects(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, selector string,
	cond func([]*unstructured.Unstructured) (bool, error)) (time.Time, error) {
	res := dyn.Resource(gvr).Namespace(ns)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return res.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return res.Watch(ctx, o)
		},
	}
	var store cache.Store
	var at time.Time
	check := func() (bool, error) {
		objs := store.List()
		items := make([]*unstructured.Unstructured, 0, len(objs))
		for _, o := range objs {
			items = append(items, o.(*unstructured.Unstructured))
		}
		ok, err := cond(items)
		if ok {
			at = time.Now()
		}
		return ok, err
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &unstructured.Unstructured{}, func(s cache.Store) (bool, error) {
		store = s
		return check()
	}, func(watch.Event) (bool, error) { return check() })
	if err != nil {
		return time.Time{}, waitError(ctx, fmt.Errorf("watch %s: %w", gvr.Resource, err))
	}
	return at, nil
}
