package native

import (
	"context"
	"errors"
	"slices"
	"testing"

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
