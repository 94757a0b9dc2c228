package native

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/faults"

	"github.com/firedrill-dev/firedrill/internal/kubetest"
)

// fakeNodes emulates Docker's view of one node container.
type fakeNodes struct {
	running, paused bool
	actions         []string
	fail            error
}

func (n *fakeNodes) NodeAction(_ context.Context, action, _ string) error {
	if n.fail != nil {
		return n.fail
	}
	n.actions = append(n.actions, action)
	switch action {
	case "pause":
		n.paused = true
	case "unpause":
		n.paused = false
	case "stop":
		n.running = false
	case "start":
		n.running = true
	}
	return nil
}

func (n *fakeNodes) NodeState(context.Context, string) (bool, bool, error) {
	return n.running, n.paused, nil
}

func (n *fakeNodes) ScheduleNodeAction(_ context.Context, marker string, after time.Duration, action, node string) error {
	n.actions = append(n.actions, fmt.Sprintf("arm %s: %s %s in %s", marker, action, node, after))
	return nil
}

func (n *fakeNodes) CancelScheduled(_ context.Context, marker string) (int, error) {
	n.actions = append(n.actions, "cancel "+marker)
	return 1, nil
}

// TestNodePauseArmsItsExpiryFirst checks that the unpause timer is armed
// before the node is paused, and cancelled before Recover unpauses it.
func TestNodePauseArmsItsExpiryFirst(t *testing.T) {
	nodes := &fakeNodes{running: true}
	f, _ := NodePause(nodes, "n1")
	f.SetExpiry(faults.Expiry{Run: "r1", After: 15 * time.Second})
	ctx := kubetest.Context(t)
	if _, err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"arm firedrill-expiry:r1:node-pause-n1: unpause n1 in 15s", "pause",
		"cancel firedrill-expiry:r1:node-pause-n1", "unpause",
	}
	if !slices.Equal(nodes.actions, want) {
		t.Errorf("actions\n%q\nwant\n%q", nodes.actions, want)
	}
	if got := f.ExpiresBy(); !strings.Contains(got, "docker unpause n1 15s after injection") {
		t.Errorf("ExpiresBy() = %q", got)
	}
}

func TestNodePauseLifecycle(t *testing.T) {
	nodes := &fakeNodes{running: true}
	f, err := NodePause(nodes, "firedrill-control-plane")
	if err != nil {
		t.Fatal(err)
	}
	ctx := kubetest.Context(t)
	if err := f.Recover(ctx); err != nil || len(nodes.actions) != 0 {
		t.Fatalf("Recover before Inject = %v, actions %v; want a no-op", err, nodes.actions)
	}
	if _, err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if !nodes.paused {
		t.Fatal("node not paused after Inject")
	}
	if err := f.Verify(ctx); err == nil {
		t.Error("Verify() = nil while the node is paused")
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
	if want := []string{"pause", "unpause"}; !slices.Equal(nodes.actions, want) {
		t.Errorf("actions %v, want %v", nodes.actions, want)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after Recover = %v", err)
	}
}

func TestNodeStopRecoversWithStart(t *testing.T) {
	nodes := &fakeNodes{running: true}
	f, _ := NodeStop(nodes, "n")
	ctx := kubetest.Context(t)
	if _, err := f.Inject(ctx); err != nil || nodes.running {
		t.Fatalf("Inject = %v, running %v", err, nodes.running)
	}
	if err := f.Recover(ctx); err != nil || !nodes.running {
		t.Fatalf("Recover = %v, running %v", err, nodes.running)
	}
	if f.Name() != "node-stop" {
		t.Errorf("Name() = %q", f.Name())
	}
}

func TestNodeFaultErrors(t *testing.T) {
	if _, err := NodePause(nil, "n"); err == nil {
		t.Error("nil node control accepted")
	}
	if _, err := NodePause(&fakeNodes{}, ""); err == nil {
		t.Error("empty node accepted")
	}
	f, _ := NodePause(&fakeNodes{running: true, fail: errors.New("no such container")}, "n")
	if _, err := f.Inject(kubetest.Context(t)); err == nil {
		t.Error("Inject succeeded although docker failed")
	}
}
