package native

import (
	"slices"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stesting "k8s.io/client-go/testing"
)

func TestDeletePodsLifecycle(t *testing.T) {
	ctx := kubetest.Context(t)
	other := appPod("db-1", true, goodImage)
	other.Labels = map[string]string{"app": "db"}
	client := kubetest.FakeClient(t, appPod("app-1", true, goodImage), appPod("app-2", true, goodImage), appPod("app-3", false, goodImage), other)
	f, err := DeletePods(client, testNS, stableSel)
	if err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	onset, err := f.Inject(ctx)
	if err != nil {
		t.Fatalf("Inject() = %v", err)
	}
	if onset.Before(before) {
		t.Errorf("onset %s is before Inject started at %s", onset, before)
	}
	var deleted []string
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok {
			deleted = append(deleted, d.GetName())
		}
	}
	if want := []string{"app-1", "app-2"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %v, want only the Ready pods %v", deleted, want)
	}
	pods, err := client.CoreV1().Pods(testNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Errorf("%d pods left, want the NotReady app pod and the db pod", len(pods.Items))
	}

	// Nothing of the fault is left once the pods are gone, whether or not
	// their controller replaces them (a rollback may scale them to zero).
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after the kill = %v", err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
}

func TestDeletePodsUsesNoGracePeriod(t *testing.T) {
	client := kubetest.FakeClient(t, appPod("app-1", true, goodImage))
	f, err := DeletePods(client, testNS, stableSel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Inject(kubetest.Context(t)); err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		d, ok := a.(k8stesting.DeleteActionImpl)
		if !ok {
			continue
		}
		o := d.GetDeleteOptions()
		if o.GracePeriodSeconds == nil || *o.GracePeriodSeconds != 0 {
			t.Errorf("delete %s with grace period %v, want 0", d.Name, o.GracePeriodSeconds)
		}
		if o.Preconditions == nil || o.Preconditions.UID == nil || *o.Preconditions.UID != "uid-app-1" {
			t.Errorf("delete %s without the pod's UID as precondition", d.Name)
		}
	}
}

func TestDeletePodsNoReadyPod(t *testing.T) {
	client := kubetest.FakeClient(t, appPod("app-1", false, goodImage))
	f, err := DeletePods(client, testNS, stableSel)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Inject(kubetest.Context(t))
	wantErr(t, err, "native: pod-kill: no Ready pod matches", stableSel, testNS)
	if _, err := client.CoreV1().Pods(testNS).Get(t.Context(), "app-1", metav1.GetOptions{}); err != nil {
		t.Errorf("NotReady pod deleted: %v", err)
	}
}

func TestDeletePodsVerifyFindsSurvivors(t *testing.T) {
	client := kubetest.FakeClient(t, appPod("a", true, goodImage), appPod("c", true, goodImage))
	f := &DeletePodsFault{client: client, ns: testNS, selector: stableSel, deleted: []podRef{{Name: "a", UID: "uid-a"}, {Name: "b", UID: "uid-b"}}}
	err := f.Verify(kubetest.Context(t))
	wantErr(t, err, "deleted pod(s) [a] still exist")
}
