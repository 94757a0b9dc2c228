package rollback

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// On an existing cluster the machinery uses the controller that is there,
// and refuses, in one line, a cluster without the CRD or the controller.
func TestCheckArgoRollouts(t *testing.T) {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	crd.SetName("rollouts.argoproj.io")
	controller := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "argo-rollouts", Namespace: "team-argo", Labels: map[string]string{"app.kubernetes.io/name": "argo-rollouts"}},
		Status:     appsv1.DeploymentStatus{AvailableReplicas: 1},
	}
	lists := map[schema.GroupVersionResource]string{crdGVR: "CustomResourceDefinitionList"}
	for _, tt := range []struct {
		name    string
		objects []runtime.Object
		deps    []runtime.Object
		want    string
	}{
		{"no CRD", nil, []runtime.Object{controller}, "the Rollout CRD (rollouts.argoproj.io) is not installed"},
		{"no controller", []runtime.Object{crd}, nil, "no controller is available"},
		{"both", []runtime.Object{crd}, []runtime.Object{controller}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, tt.objects...)
			err := CheckArgoRollouts(context.Background(), fake.NewClientset(tt.deps...), dyn)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}
