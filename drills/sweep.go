package drills

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/expiry"
)

// Sweep says which runs to clean up and with what.
type Sweep struct {
	Client kubernetes.Interface
	// Chaos lists and deletes chaos objects (nil: Chaos Mesh is not
	// installed, so there are none).
	Chaos client.Client
	// Nodes brings back kind nodes a run paused or stopped, and cancels a
	// run's host expiry timers (nil on an existing cluster).
	Nodes faults.NodeControl
	// NodeExec runs commands on a node, to cancel a run's node expiry
	// timers and count iptables rules (nil on an existing cluster).
	NodeExec faults.Exec
	// All sweeps every run, live or not; Run sweeps only that one; neither
	// sweeps the runs whose Lease expired (or that have none).
	All bool
	Run string
	// Keep is a live run never to touch (the sweeping suite's own).
	Keep string
}

// RunState is what one run left in the cluster.
type RunState struct {
	ID         string
	Lease      *coordinationv1.Lease
	Expired    bool
	Namespaces []string
	Chaos      []ChaosObject
}

// ChaosObject is one chaos object a run left, with its kind.
type ChaosObject struct {
	Kind   string
	Object client.Object
}

// chaosLists are the chaos kinds drills create.
func chaosLists() map[string]client.ObjectList {
	return map[string]client.ObjectList{
		"podchaos": &v1alpha1.PodChaosList{}, "networkchaos": &v1alpha1.NetworkChaosList{},
		"stresschaos": &v1alpha1.StressChaosList{}, "timechaos": &v1alpha1.TimeChaosList{},
	}
}

// Runs finds every run that left something: a Lease, a drill namespace or
// a chaos object carrying its run label.
func (s Sweep) Runs(ctx context.Context) ([]*RunState, error) {
	runs := map[string]*RunState{}
	get := func(id string) *RunState {
		if runs[id] == nil {
			runs[id] = &RunState{ID: id, Expired: true}
		}
		return runs[id]
	}
	leases, err := s.Client.CoordinationV1().Leases(LeaseNamespace).List(ctx, metav1.ListOptions{LabelSelector: LabelRun})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("list run leases: %w", err)
	}
	now := time.Now()
	if leases != nil {
		for i := range leases.Items {
			l := &leases.Items[i]
			r := get(l.Labels[LabelRun])
			r.Lease, r.Expired = l, expired(l, now)
		}
	}
	nss, err := s.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelDrill + "=true"})
	if err != nil {
		return nil, fmt.Errorf("list drill namespaces: %w", err)
	}
	for _, ns := range nss.Items {
		r := get(ns.Labels[LabelRun])
		r.Namespaces = append(r.Namespaces, ns.Name)
	}
	if err := s.findChaos(ctx, get); err != nil {
		return nil, err
	}
	out := make([]*RunState, 0, len(runs))
	for _, r := range runs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s Sweep) findChaos(ctx context.Context, get func(string) *RunState) error {
	if s.Chaos == nil {
		return nil
	}
	for kind, list := range chaosLists() {
		if err := s.Chaos.List(ctx, list, client.HasLabels{LabelRun}); err != nil {
			if meta.IsNoMatchError(err) {
				continue
			}
			return fmt.Errorf("list %s: %w", kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, item := range items {
			obj := item.(client.Object)
			r := get(obj.GetLabels()[LabelRun])
			r.Chaos = append(r.Chaos, ChaosObject{Kind: kind, Object: obj})
		}
	}
	return nil
}

// selected reports whether the sweep takes run r.
func (s Sweep) selected(r *RunState) bool {
	switch {
	case r.ID == s.Keep && s.Keep != "":
		return false
	case s.Run != "":
		return r.ID == s.Run
	case s.All:
		return true
	}
	return r.Expired
}

// Clean removes what the selected runs left: their chaos objects (stuck
// finalizers removed by force), their namespaces (and with them the pods'
// toxics and iptables rules and the drifted ConfigMap), the nodes their
// Lease says they paused or stopped, and the Lease itself. It then checks
// that nothing of them is left, and says one line per thing removed.
func (s Sweep) Clean(ctx context.Context, say func(string)) error {
	runs, err := s.Runs(ctx)
	if err != nil {
		return err
	}
	var picked []string
	var errs []error
	for _, r := range runs {
		if !s.selected(r) {
			continue
		}
		picked = append(picked, r.ID)
		errs = append(errs, s.cleanRun(ctx, r, say))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.verify(ctx, picked)
}

func (s Sweep) cleanRun(ctx context.Context, r *RunState, say func(string)) error {
	for _, co := range r.Chaos {
		obj := co.Object
		c := &chaosmesh.Chaos{Client: s.Chaos, Object: obj.(chaosmesh.Object)}
		if err := c.Recover(ctx); err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
		how := ""
		if c.ForcedCleanup() {
			how = " (stuck finalizers removed)"
		}
		say(fmt.Sprintf("removed %s %s/%s of run %s%s", co.Kind, obj.GetNamespace(), obj.GetName(), r.ID, how))
	}
	if err := s.cancelTimers(ctx, r.ID, say); err != nil {
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	if err := s.bringBackNodes(ctx, r, say); err != nil {
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	for _, ns := range r.Namespaces {
		if err := DeleteNamespace(ctx, s.Client, ns); err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
		say(fmt.Sprintf("removed namespace %s of run %s, with its pods' toxics and iptables rules and its ConfigMap", ns, r.ID))
	}
	if r.Lease != nil {
		err := s.Client.CoordinationV1().Leases(LeaseNamespace).Delete(ctx, r.Lease.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("run %s: delete lease: %w", r.ID, err)
		}
		state := "expired"
		if !r.Expired {
			state = "live"
		}
		say(fmt.Sprintf("removed lease %s/%s of run %s (%s)", LeaseNamespace, r.Lease.Name, r.ID, state))
	}
	return nil
}

// cancelTimers stops the run's expiry timers, on the host and on the node,
// so that none of them undoes a later run's fault.
func (s Sweep) cancelTimers(ctx context.Context, run string, say func(string)) error {
	if run == "" {
		return nil // a namespace without a run label: no timer names it
	}
	marker := expiry.RunMarker(run)
	said := func(n int, where string) {
		if n > 0 {
			say(fmt.Sprintf("cancelled %d expiry timer(s) of run %s on the %s", n, run, where))
		}
	}
	if s.Nodes != nil {
		n, err := s.Nodes.CancelScheduled(ctx, marker)
		if err != nil {
			return err
		}
		said(n, "host")
	}
	if s.NodeExec != nil {
		n, err := expiry.Cancel(ctx, expiry.Shell(s.NodeExec), marker)
		if err != nil {
			return err
		}
		said(n, "node")
	}
	return nil
}

// bringBackNodes unpauses or starts the nodes the run's Lease says it
// paused or stopped, unless they already run (an expiry timer fired).
func (s Sweep) bringBackNodes(ctx context.Context, r *RunState, say func(string)) error {
	if r.Lease == nil || s.Nodes == nil {
		return nil
	}
	for node, undo := range leasedNodes(r.Lease) {
		running, paused, err := s.Nodes.NodeState(ctx, node)
		if err != nil {
			return err
		}
		if running && !paused {
			continue
		}
		if err := s.Nodes.NodeAction(ctx, undo, node); err != nil {
			return err
		}
		say(fmt.Sprintf("%s node %s, which run %s left %s", pastTense[undo], node, r.ID, pastTense[undone[undo]]))
	}
	return nil
}

// verify fails unless the runs swept left nothing.
func (s Sweep) verify(ctx context.Context, swept []string) error {
	runs, err := s.Runs(ctx)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if !slices.Contains(swept, r.ID) {
			continue
		}
		if r.Lease != nil || len(r.Chaos) > 0 || len(r.Namespaces) > 0 {
			return fmt.Errorf("run %s still has: lease %v, %d chaos object(s), namespaces %v", r.ID, r.Lease != nil, len(r.Chaos), r.Namespaces)
		}
	}
	return nil
}

// undone names the node action each undo reverses; pastTense says them.
var (
	undone    = map[string]string{"unpause": "pause", "start": "stop"}
	pastTense = map[string]string{"unpause": "unpaused", "start": "started", "pause": "paused", "stop": "stopped"}
)
