package drills

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
	crfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// recordedNodes records node actions; the nodes in paused are paused
// until unpaused.
type recordedNodes struct {
	actions []string
	paused  map[string]bool
}

func (n *recordedNodes) NodeAction(_ context.Context, action, node string) error {
	n.actions = append(n.actions, action+" "+node)
	if action == "unpause" {
		delete(n.paused, node)
	}
	return nil
}

func (n *recordedNodes) NodeState(_ context.Context, node string) (bool, bool, error) {
	return true, n.paused[node], nil
}

func (n *recordedNodes) ScheduleNodeAction(context.Context, string, time.Duration, string, string) error {
	return nil
}

func (n *recordedNodes) CancelScheduled(_ context.Context, marker string) (int, error) {
	n.actions = append(n.actions, "cancel "+marker)
	return 2, nil
}

func (n *recordedNodes) NodeContainers(context.Context) ([]string, error) {
	return []string{"firedrill-control-plane", "firedrill-worker"}, nil
}

func runLease(id string, renewed time.Time, annotations map[string]string) *coordinationv1.Lease {
	t := metav1.NewMicroTime(renewed)
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName(id), Namespace: LeaseNamespace, Labels: map[string]string{LabelRun: id}, Annotations: annotations},
		Spec:       coordinationv1.LeaseSpec{RenewTime: &t, LeaseDurationSeconds: ptr.To(int32(30))},
	}
}

func drillNS(name, run string) *corev1.Namespace {
	labels := map[string]string{LabelDrill: "true"}
	if run != "" {
		labels[LabelRun] = run
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// The default sweep takes the runs that are dead (expired lease, or none)
// and never a live one; it removes their chaos objects, namespaces and
// leases, brings back the nodes their lease names, and leaves nothing.
func TestSweepCleansDeadRunsOnly(t *testing.T) {
	now := time.Now()
	client := fake.NewClientset(
		runLease("dead", now.Add(-time.Minute), map[string]string{
			leaseNodePrefix + "firedrill-control-plane": "pause", leaseNodePrefix + "firedrill-worker": "pause",
		}),
		runLease("live", now, nil),
		drillNS("drill-a-1", "dead"), drillNS("drill-b-1", "live"), drillNS("drill-c-1", ""),
	)
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	chaos := crfake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&v1alpha1.PodChaos{ObjectMeta: metav1.ObjectMeta{Name: "pod-failure-a", Namespace: "drill-a-1", Labels: map[string]string{LabelRun: "dead"}}},
		&v1alpha1.PodChaos{ObjectMeta: metav1.ObjectMeta{Name: "pod-kill-b", Namespace: "drill-b-1", Labels: map[string]string{LabelRun: "live"}}},
	).Build()
	// The worker's expiry timer fired already: it is running again.
	nodes := &recordedNodes{paused: map[string]bool{"firedrill-control-plane": true}}
	var lines []string
	s := Sweep{Client: client, Chaos: chaos, Nodes: nodes}
	census, err := s.Census(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(census.Namespaces) != 3 || len(census.Chaos) != 2 || !slices.Equal(census.Nodes, []string{"firedrill-control-plane"}) || census.Empty() {
		t.Errorf("census before = %s", census)
	}
	if err := s.Clean(context.Background(), func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{
		"removed podchaos drill-a-1/pod-failure-a of run dead",
		"cancelled 2 expiry timer(s) of run dead on the host",
		"unpaused node firedrill-control-plane, which run dead left paused",
		"removed namespace drill-a-1 of run dead", "removed namespace drill-c-1 of run ",
		"removed lease firedrill-runs/run-dead of run dead (expired)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep said:\n%s\nwant a line with %q", out, want)
		}
	}
	if strings.Contains(out, "live") {
		t.Errorf("the live run was touched:\n%s", out)
	}
	if !slices.Equal(nodes.actions, []string{"cancel firedrill-expiry:dead:", "unpause firedrill-control-plane"}) {
		t.Errorf("node actions = %v", nodes.actions)
	}
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != "live" || len(runs[0].Namespaces) != 1 || len(runs[0].Chaos) != 1 {
		t.Errorf("left = %+v, want only the live run, whole", runs)
	}
	// --all takes the live run too, but never the sweeping run itself.
	lines = nil
	if err := (Sweep{Client: client, Chaos: chaos, All: true, Keep: "live"}).Clean(context.Background(), func(l string) { lines = append(lines, l) }); err != nil || len(lines) != 0 {
		t.Errorf("--all with the run kept: %v, %v", lines, err)
	}
	if err := (Sweep{Client: client, Chaos: chaos, All: true}).Clean(context.Background(), func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.Runs(context.Background()); len(runs) != 0 {
		t.Errorf("after --all: %+v", runs)
	}
}
