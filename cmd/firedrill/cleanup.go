package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
)

// runCleanup removes what dead runs left: by default the runs whose Lease
// expired, on the firedrill kind cluster; --all or --run ID pick others,
// --context an existing (allowlisted) cluster.
func runCleanup(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cleanup", flag.ContinueOnError)
	all := fs.Bool("all", false, "clean every run, live or not")
	run := fs.String("run", "", "clean only this run ID")
	name := fs.String("cluster", cluster.DefaultName, "the firedrill kind cluster to clean")
	kubeContext := fs.String("context", "", "clean this existing kubeconfig context instead (it must be allowed)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file of --context (default: $KUBECONFIG or ~/.kube/config)")
	allow := fs.String("allow-context", "", "comma-separated contexts to allow beside the allowed-contexts file and "+cluster.AllowEnv)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("cleanup: %w", errUsage)
	}
	if *all && *run != "" {
		return fmt.Errorf("cleanup: --all and --run exclude each other: %w", errUsage)
	}
	sweep := drills.Sweep{All: *all, Run: *run}
	c, err := cleanupTarget(ctx, *name, *kubeContext, *kubeconfig, *allow, &sweep)
	if err != nil {
		return err
	}
	sweep.Client = c.Client
	if sweep.Chaos, err = chaosmesh.NewClient(c.REST); err != nil {
		return err
	}
	n := 0
	if err := sweep.Clean(ctx, func(line string) { n++; fmt.Fprintln(out, line) }); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	if n == 0 {
		fmt.Fprintf(out, "nothing to clean on %s\n", c.Context)
	} else {
		fmt.Fprintf(out, "cleaned %d thing(s) on %s; nothing is left of the runs cleaned\n", n, c.Context)
	}
	census, err := sweep.Census(ctx)
	if err != nil {
		return fmt.Errorf("cleanup: count what is left: %w", err)
	}
	fmt.Fprintf(out, "left on %s, live runs included: %s\n", c.Context, census)
	return nil
}

// cleanupTarget connects to the kind cluster (whose nodes it may unpause),
// or to an allowed existing context.
func cleanupTarget(ctx context.Context, name, kubeContext, kubeconfig, allow string, sweep *drills.Sweep) (*cluster.Cluster, error) {
	if kubeContext == "" {
		kind := cluster.NewKind(cluster.WithName(name))
		c, err := kind.Attach(ctx)
		if err != nil {
			return nil, fmt.Errorf("cleanup: %w", err)
		}
		sweep.Nodes, sweep.NodeExec = kind, kind.NodeExec
		return c, nil
	}
	list, err := cluster.LoadAllowlist(".", allow)
	if err != nil {
		return nil, err
	}
	if err := list.Check(kubeconfig, kubeContext); err != nil {
		return nil, fmt.Errorf("cleanup: %w", err)
	}
	c, err := cluster.Existing(ctx, kubeconfig, kubeContext)
	if err != nil {
		return nil, fmt.Errorf("cleanup: %w", err)
	}
	return c, nil
}
