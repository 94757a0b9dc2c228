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
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// On an existing cluster the machinery uses the controller that is there,
// and refuses, in one line, a cluster without the CRD or the controller.
func TestCheckArgoRollouts(t *testing.T) {
	controller := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "argo-rollouts", Namespace: "team-argo", Labels: map[string]string{"app.kubernetes.io/name": "argo-rollouts"}},
		Status:     appsv1.DeploymentStatus{AvailableReplicas: 1},
	}
	testControllerCheck(t, CheckArgoRollouts, "rollouts.argoproj.io", controller, "the Rollout CRD (rollouts.argoproj.io) is not installed")
}

// testControllerCheck runs a controller preflight (check) against a
// cluster without the CRD, without the controller, and with both: the
// first two must be refused in one line, the first saying noCRD.
func testControllerCheck(t *testing.T, check func(context.Context, kubernetes.Interface, dynamic.Interface) error, crdName string, controller *appsv1.Deployment, noCRD string) {
	t.Helper()
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	crd.SetName(crdName)
	lists := map[schema.GroupVersionResource]string{crdGVR: "CustomResourceDefinitionList"}
	for _, tt := range []struct {
		name       string
		crds, deps []runtime.Object
		want       string
	}{
		{"no CRD", nil, []runtime.Object{controller}, noCRD},
		{"no controller", []runtime.Object{crd}, nil, "no controller is available"},
		{"both", []runtime.Object{crd}, []runtime.Object{controller}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, tt.crds...)
			err := check(context.Background(), fake.NewClientset(tt.deps...), dyn)
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
