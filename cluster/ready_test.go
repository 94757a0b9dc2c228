package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func lease(name string, renewed time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceSystem},
		Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: renewed}}}
}

// TestControlPlaneByLeases: the scheduler and controller manager count as
// working only while they renew their leader leases.
func TestControlPlaneByLeases(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(lease("kube-scheduler", time.Now()), lease("kube-controller-manager", time.Now().Add(-time.Minute)))
	got := controlPlaneNotReady(ctx, client)
	if !slices.Equal(got, []string{"kube-controller-manager leader lease"}) {
		t.Errorf("controlPlaneNotReady = %v, want only the stale controller-manager lease", got)
	}
	if got := controlPlaneNotReady(ctx, fake.NewClientset()); len(got) != 2 {
		t.Errorf("with no leases: %v, want both pending", got)
	}
}
