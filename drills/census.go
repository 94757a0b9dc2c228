package drills

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/faults/native"
	"github.com/firedrill-dev/firedrill/faults/toxiproxy"
)

// Census counts what drills can leave on a cluster, whichever run left it:
// the check after a crash and a sweep that nothing is left.
type Census struct {
	Namespaces []string
	Chaos      []string
	// Nodes are kind nodes paused or stopped (kind only).
	Nodes []string
	// Toxics are harness toxics on running sidecars, as ns/pod: toxic.
	Toxics []string
	// IptablesRules counts partition rules in the node's network
	// namespaces (-1: no node access to count them).
	IptablesRules int
}

// Empty reports whether nothing is left.
func (c Census) Empty() bool {
	return len(c.Namespaces)+len(c.Chaos)+len(c.Nodes)+len(c.Toxics) == 0 && c.IptablesRules <= 0
}

// String says the counts on one line.
func (c Census) String() string {
	rules := fmt.Sprint(c.IptablesRules)
	if c.IptablesRules < 0 {
		rules = "(not counted: no node access)"
	}
	return fmt.Sprintf("%d drill namespace(s) %v, %d chaos object(s) %v, %d paused or stopped node(s) %v, %d toxic(s) %v, %s firedrill iptables rule(s)",
		len(c.Namespaces), c.Namespaces, len(c.Chaos), c.Chaos, len(c.Nodes), c.Nodes, len(c.Toxics), c.Toxics, rules)
}

// nodeLister is the part of the kind provider that names its nodes.
type nodeLister interface {
	NodeContainers(ctx context.Context) ([]string, error)
}

// Census counts what is left on the sweep's cluster, live runs included.
func (s Sweep) Census(ctx context.Context) (Census, error) {
	c := Census{IptablesRules: -1}
	nss, err := s.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: LabelDrill + "=true"})
	if err != nil {
		return c, fmt.Errorf("list drill namespaces: %w", err)
	}
	for _, ns := range nss.Items {
		c.Namespaces = append(c.Namespaces, ns.Name)
	}
	every := &RunState{}
	if err := s.findChaos(ctx, func(string) *RunState { return every }); err != nil {
		return c, err
	}
	for _, co := range every.Chaos {
		c.Chaos = append(c.Chaos, co.Kind+" "+co.Object.GetNamespace()+"/"+co.Object.GetName())
	}
	if c.Nodes, err = s.downNodes(ctx); err != nil {
		return c, err
	}
	if c.Toxics, err = toxiproxy.LeftToxics(ctx, s.Client); err != nil {
		return c, err
	}
	if s.NodeExec != nil {
		if c.IptablesRules, err = native.PartitionRules(ctx, s.NodeExec); err != nil {
			return c, err
		}
	}
	return c, nil
}

// downNodes names the kind nodes that are paused or stopped.
func (s Sweep) downNodes(ctx context.Context) ([]string, error) {
	lister, ok := s.Nodes.(nodeLister)
	if !ok {
		return nil, nil
	}
	names, err := lister.NodeContainers(ctx)
	if err != nil {
		return nil, err
	}
	var down []string
	for _, n := range names {
		running, paused, err := s.Nodes.NodeState(ctx, n)
		if err != nil {
			return nil, err
		}
		if !running || paused {
			down = append(down, n)
		}
	}
	return down, nil
}
