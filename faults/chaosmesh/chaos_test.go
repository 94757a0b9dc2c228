package chaosmesh

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func fakeChaosClient(t *testing.T, objs ...client.Object) client.WithWatch {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.PodChaos{}).Build()
}

func testPodChaos(finalizers ...string) *v1alpha1.PodChaos {
	return &v1alpha1.PodChaos{
		ObjectMeta: metav1.ObjectMeta{Name: "kill", Namespace: "drill-x-1", Finalizers: finalizers},
		Spec:       v1alpha1.PodChaosSpec{Action: v1alpha1.PodKillAction},
	}
}

// TestRecoverForcesStuckFinalizer: an object whose finalizer nobody removes
// is deleted by force after the bounded wait, and the fault says so.
func TestRecoverForcesStuckFinalizer(t *testing.T) {
	obj := testPodChaos("chaos-mesh/records")
	c := &Chaos{Client: fakeChaosClient(t, obj), Object: obj, FaultName: "pod-kill", FinalizerWait: 300 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.Recover(ctx); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if !c.ForcedCleanup() {
		t.Error("ForcedCleanup() = false after removing a stuck finalizer")
	}
	if err := c.Verify(ctx); err != nil {
		t.Errorf("Verify after forced cleanup: %v", err)
	}
}

func TestRecoverWithoutFinalizerIsNotForced(t *testing.T) {
	obj := testPodChaos()
	c := &Chaos{Client: fakeChaosClient(t, obj), Object: obj, FaultName: "pod-kill"}
	if err := c.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c.ForcedCleanup() {
		t.Error("ForcedCleanup() = true for an object that went away on its own")
	}
	if err := c.Recover(t.Context()); err != nil {
		t.Errorf("second Recover: %v (must be idempotent)", err)
	}
}

// TestInjectWaitsForAllInjectedAndConfirm: onset needs the AllInjected
// condition and the data-plane confirmation, in that order.
func TestInjectWaitsForAllInjectedAndConfirm(t *testing.T) {
	cl := fakeChaosClient(t)
	obj := testPodChaos()
	confirmed := false
	c := &Chaos{Client: cl, Object: obj, FaultName: "pod-kill", Confirm: func(context.Context) error {
		if !hasCondition(obj.GetStatus(), v1alpha1.ConditionAllInjected) {
			t.Error("Confirm ran before AllInjected")
		}
		confirmed = true
		return nil
	}}
	go func() {
		time.Sleep(300 * time.Millisecond)
		var got v1alpha1.PodChaos
		if err := cl.Get(context.Background(), client.ObjectKeyFromObject(obj), &got); err != nil {
			t.Error(err)
			return
		}
		got.Status.Conditions = []v1alpha1.ChaosCondition{{Type: v1alpha1.ConditionAllInjected, Status: corev1.ConditionTrue}}
		if err := cl.Status().Update(context.Background(), &got); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	at, err := c.Inject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !confirmed || at.Sub(start) < 250*time.Millisecond {
		t.Errorf("onset at +%s, confirmed %v: Inject did not wait for AllInjected", at.Sub(start), confirmed)
	}
}

func TestInjectTimesOutNamingTheObject(t *testing.T) {
	c := &Chaos{Client: fakeChaosClient(t), Object: testPodChaos(), FaultName: "pod-kill"}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Inject(ctx)
	if err == nil || !strings.Contains(err.Error(), "drill-x-1/kill never reached AllInjected") {
		t.Errorf("Inject error = %v", err)
	}
}
