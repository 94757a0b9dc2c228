package native

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/expiry"
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

	expiry faults.Expiry

	mu       sync.Mutex
	injected bool
}

var _ faults.Expiring = (*NodeFault)(nil)

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

// undoOf names the Docker action that reverses each node fault.
var undoOf = map[string]string{"pause": "unpause", "stop": "start"}

// SetExpiry implements faults.Expiring.
func (f *NodeFault) SetExpiry(e faults.Expiry) { f.expiry = e }

// ExpiresBy implements faults.Expiring.
func (f *NodeFault) ExpiresBy() string {
	if f.expiry.After <= 0 {
		return "nothing: no expiry set; firedrill cleanup " + undoOf[f.action] + "s the node from the run's Lease"
	}
	return fmt.Sprintf("a host timer in its own session runs docker %s %s %s after injection", undoOf[f.action], f.node, f.expiry.After)
}

func (f *NodeFault) marker() string {
	return expiry.Marker(f.expiry.Run, f.Name()+"-"+f.node)
}

// nodePoll is how often the node container's state is read.
const nodePoll = 100 * time.Millisecond

// Inject arms the expiry timer, then pauses or stops the node and confirms
// it through Docker's view of the container. The timer comes first, so that
// no instant exists at which the node is down with nothing to bring it back.
func (f *NodeFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.expiry.After > 0 {
		if err := f.ctl.ScheduleNodeAction(ctx, f.marker(), f.expiry.After, undoOf[f.action], f.node); err != nil {
			return time.Time{}, fmt.Errorf("native: %s: arm expiry: %w", f.Name(), err)
		}
	}
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

// Recover cancels the expiry timer, then unpauses or starts the node again;
// it is a no-op when the node is already running and not paused, which is
// also what a timer that fired first leaves.
func (f *NodeFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.injected {
		return nil
	}
	if f.expiry.After > 0 {
		if _, err := f.ctl.CancelScheduled(ctx, f.marker()); err != nil {
			return fmt.Errorf("native: %s: recover: %w", f.Name(), err)
		}
	}
	running, paused, err := f.ctl.NodeState(ctx, f.node)
	if err != nil {
		return fmt.Errorf("native: %s: recover: %w", f.Name(), err)
	}
	if healthy(running, paused) {
		return nil
	}
	if err := f.ctl.NodeAction(ctx, undoOf[f.action], f.node); err != nil {
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
