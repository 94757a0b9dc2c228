package chaosmesh

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// labelRenderer is a Helm post-renderer that puts labels (the run's) on
// every object the chart's templates render.
type labelRenderer map[string]string

// Run implements postrender.PostRenderer.
func (l labelRenderer) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	docs, err := kube.Documents(rendered.Bytes())
	if err != nil {
		return nil, fmt.Errorf("label rendered manifests: %w", err)
	}
	var out bytes.Buffer
	for _, obj := range docs {
		kube.AddLabels(obj, l)
		raw, err := yaml.Marshal(obj.Object)
		if err != nil {
			return nil, fmt.Errorf("label %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		out.WriteString("---\n")
		out.Write(raw)
	}
	return &out, nil
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// labelCRDs puts the labels on what Helm creates without rendering it, so
// that no post-renderer sees it: the chart's CRDs and the namespace.
func (in Install) labelCRDs(ctx context.Context, cfg *action.Configuration, ch *chart.Chart) error {
	if len(in.Labels) == 0 {
		return nil
	}
	rc, err := cfg.RESTClientGetter.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("label CRDs: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("label CRDs: %w", err)
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": in.Labels}})
	if err != nil {
		return err
	}
	nsResource := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if _, err := dyn.Resource(nsResource).Patch(ctx, Namespace, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: kube.FieldManager}); err != nil {
		return fmt.Errorf("label namespace %s: %w", Namespace, err)
	}
	for _, crd := range ch.CRDObjects() {
		docs, err := kube.Documents(crd.File.Data)
		if err != nil {
			return fmt.Errorf("label CRDs: %s: %w", crd.Filename, err)
		}
		for _, obj := range docs {
			if _, err := dyn.Resource(crdResource).Patch(ctx, obj.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: kube.FieldManager}); err != nil {
				return fmt.Errorf("label CRD %s: %w", obj.GetName(), err)
			}
		}
	}
	return nil
}
