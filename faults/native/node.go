package native

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/faults"
)

// NodeControl is what a node fault needs from the cluster provider:
// cluster.Kind implements it with Docker for kind node containers.
type NodeControl = faults.NodeControl

// NodeFault pauses or stops a kind node container. It hits everything on
// the node, control plane included on a single-node cluster, so drills use
// it for short windows and measure how service comes back.
type NodeFault struct {
	ctl    NodeControl
	node   string
	action string // "pause" or "stop"

	mu       sync.Mutex
	injected bool
}

var _ faults.Fault = (*NodeFault)(nil)

// NodePause returns a fault that freezes every process of node (docker pause).
func NodePause(ctl NodeControl, node string) (*NodeFault, error) {
	return newNodeFault(ctl, node, "pause")
}

// NodeStop returns a fault that stops node (docker stop); Recover starts it
// again. On a single-node cluster this takes the control plane down too.
func NodeStop(ctl NodeControl, node string) (*NodeFault, error) {
	return newNodeFault(ctl, node, "stop")
}

func newNodeFault(ctl NodeControl, node, action string) (*NodeFault, error) {
	switch {
	case ctl == nil:
		return nil, errors.New("native: node-" + action + ": no node control")
	case node == "":
		return nil, errors.New("native: node-" + action + ": node name is empty")
	}
	return &NodeFault{ctl: ctl, node: node, action: action}, nil
}

// Name implements faults.Fault.
func (f *NodeFault) Name() string { return "node-" + f.action }

// Backend implements faults.Fault.
func (f *NodeFault) Backend() string { return backend }

// nodePoll is how often the node container's state is read.
const nodePoll = 100 * time.Millisecond

// Inject pauses or stops the node and confirms it through Docker's view of
// the container.
func (f *NodeFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.ctl.NodeAction(ctx, f.action, f.node); err != nil {
		return time.Time{}, fmt.Errorf("native: %s: %w", f.Name(), err)
	}
	f.injected = true
	at, err := f.awaitState(ctx, f.faulted)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: %s: node %s never reached the fault state: %w", f.Name(), f.node, err)
	}
	return at, nil
}

func (f *NodeFault) faulted(running, paused bool) bool {
	if f.action == "pause" {
		return paused
	}
	return !running
}

func healthy(running, paused bool) bool { return running && !paused }

func (f *NodeFault) awaitState(ctx context.Context, want func(running, paused bool) bool) (time.Time, error) {
	var at time.Time
	err := wait.PollUntilContextCancel(ctx, nodePoll, true, func(ctx context.Context) (bool, error) {
		running, paused, err := f.ctl.NodeState(ctx, f.node)
		if err != nil {
			return false, err
		}
		if want(running, paused) {
			at = time.Now()
			return true, nil
		}
		return false, nil
	})
	return at, err
}

// Recover unpauses or starts the node again; it is a no-op when the node
// is already running and not paused.
func (f *NodeFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.injected {
		return nil
	}
	running, paused, err := f.ctl.NodeState(ctx, f.node)
	if err != nil {
		return fmt.Errorf("native: %s: recover: %w", f.Name(), err)
	}
	if healthy(running, paused) {
		return nil
	}
	undo := map[string]string{"pause": "unpause", "stop": "start"}[f.action]
	if err := f.ctl.NodeAction(ctx, undo, f.node); err != nil {
		return fmt.Errorf("native: %s: recover: %w", f.Name(), err)
	}
	if _, err := f.awaitState(ctx, healthy); err != nil {
		return fmt.Errorf("native: %s: node %s did not come back: %w", f.Name(), f.node, err)
	}
	return nil
}

// Verify checks that the node container runs and is not paused.
func (f *NodeFault) Verify(ctx context.Context) error {
	running, paused, err := f.ctl.NodeState(ctx, f.node)
	if err != nil {
		return fmt.Errorf("native: %s: verify: %w", f.Name(), err)
	}
	if !healthy(running, paused) {
		return fmt.Errorf("native: %s: verify: node %s running=%v paused=%v", f.Name(), f.node, running, paused)
	}
	return nil
}
