package drills

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func nodePortService(ns, name string, nodePorts ...int32) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort},
	}
	for i, p := range nodePorts {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Port: 80 + int32(i), NodePort: p})
	}
	return svc
}

func TestFreeNodePort(t *testing.T) {
	candidates := []int32{30080, 30081, 30082, 30083}
	clusterIP := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 443}}},
	}
	tests := []struct {
		name     string
		services []runtime.Object
		want     int32
	}{
		{"no services", nil, 30080},
		{"only ClusterIP services", []runtime.Object{clusterIP}, 30080},
		{"first ports used across namespaces", []runtime.Object{
			clusterIP, nodePortService("drill-a", "app", 30080), nodePortService("drill-b", "app", 30081),
		}, 30082},
		{"a service with several ports", []runtime.Object{nodePortService("drill-a", "app", 30080, 30082)}, 30081},
		{"ports outside the candidates", []runtime.Object{nodePortService("other", "web", 31000)}, 30080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FreeNodePort(kubetest.Context(t), fake.NewClientset(tt.services...), candidates)
			if err != nil || got != tt.want {
				t.Errorf("FreeNodePort() = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestFreeNodePortAllUsed(t *testing.T) {
	client := fake.NewClientset(nodePortService("drill-a", "app", 30080), nodePortService("drill-b", "app", 30081))
	got, err := FreeNodePort(kubetest.Context(t), client, []int32{30080, 30081})
	if err == nil {
		t.Fatalf("FreeNodePort() = %d, want an error", got)
	}
	for _, want := range []string{"30080", "30081", "in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("FreeNodePort() error = %q, want it to contain %q", err, want)
		}
	}
}

func TestFreeNodePortListError(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "", errors.New("no RBAC"))
	})
	if _, err := FreeNodePort(kubetest.Context(t), client, []int32{30080}); err == nil || !strings.Contains(err.Error(), "list services") {
		t.Errorf("FreeNodePort() error = %v, want one about listing services", err)
	}
}

func drillNamespace(name, runID string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		LabelDrill: "true", LabelScenario: "bad-canary", LabelRun: runID,
	}}}
}

func TestDrillNamespaces(t *testing.T) {
	client := fake.NewClientset(
		drillNamespace("drill-a", "run1"),
		drillNamespace("drill-b", "run2"),
		drillNamespace("drill-c", "run1"),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "not-a-drill", Labels: map[string]string{LabelDrill: "false", LabelRun: "run1"}}},
	)
	tests := []struct {
		runID string
		want  []string
	}{
		{"", []string{"drill-a", "drill-b", "drill-c"}},
		{"run1", []string{"drill-a", "drill-c"}},
		{"run2", []string{"drill-b"}},
		{"run3", []string{}},
	}
	for _, tt := range tests {
		t.Run("run "+tt.runID, func(t *testing.T) {
			got, err := DrillNamespaces(kubetest.Context(t), client, tt.runID)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("DrillNamespaces(%q) = %q, want %q", tt.runID, got, tt.want)
			}
		})
	}
}

func TestDeleteNamespace(t *testing.T) {
	ctx := kubetest.Context(t)
	client := fake.NewClientset(drillNamespace("drill-a", "run1"), drillNamespace("drill-b", "run1"))
	if err := DeleteNamespace(ctx, client, "drill-a"); err != nil {
		t.Fatalf("DeleteNamespace() = %v", err)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, "drill-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("drill-a after DeleteNamespace: Get error = %v, want NotFound", err)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, "drill-b", metav1.GetOptions{}); err != nil {
		t.Errorf("drill-b was touched: %v", err)
	}
}

func TestDeleteNamespaceNotFound(t *testing.T) {
	if err := DeleteNamespace(kubetest.Context(t), fake.NewClientset(), "gone"); err != nil {
		t.Errorf("DeleteNamespace() of a missing namespace = %v, want nil", err)
	}
}

func TestDeleteNamespaceWaitsUntilGone(t *testing.T) {
	// The API accepts the delete but the namespace stays, as it would while
	// its finalizers run.
	client := fake.NewClientset(drillNamespace("drill-a", "run1"))
	client.PrependReactor("delete", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := DeleteNamespace(ctx, client, "drill-a")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DeleteNamespace() of a namespace that stays = %v, want the context deadline", err)
	}
}

func TestDeleteNamespaceErrors(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "drill-a", errors.New("no RBAC"))
	for _, verb := range []string{"delete", "get"} {
		t.Run(verb, func(t *testing.T) {
			client := fake.NewClientset(drillNamespace("drill-a", "run1"))
			client.PrependReactor(verb, "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, forbidden
			})
			err := DeleteNamespace(kubetest.Context(t), client, "drill-a")
			if !apierrors.IsForbidden(err) {
				t.Errorf("DeleteNamespace() = %v, want the Forbidden error", err)
			}
			if verb == "delete" && (err == nil || !strings.Contains(err.Error(), "delete namespace drill-a")) {
				t.Errorf("DeleteNamespace() = %v, want it to name the namespace", err)
			}
		})
	}
}
