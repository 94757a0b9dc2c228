package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Exec runs a command on a cluster node and returns its combined output.
// For kind it is cluster.Kind.NodeExec.
type Exec func(ctx context.Context, args ...string) (string, error)

// Chaos Mesh kinds whose support depends on the host.
const (
	KindNetworkChaos = "NetworkChaos"
	KindStressChaos  = "StressChaos"
	KindHTTPChaos    = "HTTPChaos"
	KindIOChaos      = "IOChaos"
)

// Capabilities says which Chaos Mesh fault kinds the cluster's nodes cannot
// run, and why, so that drills using them are skipped with that reason
// rather than failed or, worse, passed without a fault.
type Capabilities struct {
	// Skips maps a fault kind to the reason it cannot run here.
	Skips map[string]string `json:"skips"`
}

// Skip returns the reason a kind cannot run here, if any.
func (c Capabilities) Skip(kind string) (string, bool) {
	reason, ok := c.Skips[kind]
	return reason, ok
}

func (c Capabilities) String() string {
	if len(c.Skips) == 0 {
		return "every probed fault kind can run"
	}
	kinds := make([]string, 0, len(c.Skips))
	for k := range c.Skips {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	lines := make([]string, len(kinds))
	for i, k := range kinds {
		lines[i] = k + ": " + c.Skips[k]
	}
	return strings.Join(lines, "; ")
}

// probeNetns is the scratch network namespace the netem probe uses.
const probeNetns = "firedrill-probe"

// Probe tries, on a node, what Chaos Mesh needs from the host kernel and
// cgroups: a netem qdisc in a scratch network namespace (NetworkChaos) and
// cgroup v2 (StressChaos places stressors in the target's cgroup, which
// fails on cgroup v1 inside kind). HTTPChaos and IOChaos need Chaos Mesh's
// Rust helpers, which cannot be built from Go modules, so they are always
// skipped by this harness.
func Probe(ctx context.Context, exec Exec) (Capabilities, error) {
	c := Capabilities{Skips: map[string]string{
		KindHTTPChaos: "needs Chaos Mesh's tproxy helper, which cannot be built offline",
		KindIOChaos:   "needs Chaos Mesh's toda helper, which cannot be built offline",
	}}
	if reason, err := probeNetem(ctx, exec); err != nil {
		return c, err
	} else if reason != "" {
		c.Skips[KindNetworkChaos] = reason
	}
	if reason, err := probeCgroup(ctx, exec); err != nil {
		return c, err
	} else if reason != "" {
		c.Skips[KindStressChaos] = reason
	}
	return c, nil
}

// probeNetem adds a netem qdisc to the loopback of a scratch namespace.
func probeNetem(ctx context.Context, exec Exec) (string, error) {
	if _, err := exec(ctx, "ip", "netns", "add", probeNetns); err != nil {
		return "", fmt.Errorf("probe: create scratch network namespace: %w", err)
	}
	defer func() { _, _ = exec(context.WithoutCancel(ctx), "ip", "netns", "del", probeNetns) }()
	out, err := exec(ctx, "tc", "-n", probeNetns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms")
	if err != nil {
		return "the node kernel cannot add a netem qdisc (" + firstLine(out, err) + ")", nil
	}
	return "", nil
}

// probeCgroup reads the cgroup filesystem type on the node.
func probeCgroup(ctx context.Context, exec Exec) (string, error) {
	out, err := exec(ctx, "stat", "-fc", "%T", "/sys/fs/cgroup")
	if err != nil {
		return "", fmt.Errorf("probe: read cgroup filesystem: %w", err)
	}
	if strings.TrimSpace(out) != "cgroup2fs" {
		return "the nodes run cgroup v1 (" + strings.TrimSpace(out) + " at /sys/fs/cgroup); chaos-daemon cannot place stressors there", nil
	}
	return "", nil
}

func firstLine(out string, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); line != "" {
		return line
	}
	return err.Error()
}
