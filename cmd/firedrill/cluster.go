package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/firedrill-dev/firedrill/cluster"
)

// clusterFlags are the flags shared by up and down.
type clusterFlags struct {
	name, config, kubeconfig, nodeImage string
	airgap, retain                      bool
}

func parseClusterFlags(name string, args []string) (*clusterFlags, error) {
	f := &clusterFlags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&f.name, "name", cluster.DefaultName, "kind cluster name")
	fs.StringVar(&f.config, "config", "", "kind config file (default: kind-config.yaml in this or a parent directory)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "dedicated kubeconfig file to write (default: in the firedrill cache)")
	fs.StringVar(&f.nodeImage, "node-image", os.Getenv("FIREDRILL_NODE_IMAGE"), "node image to use (default: upstream, or the offline image when air-gapped)")
	fs.BoolVar(&f.airgap, "airgap", os.Getenv("FIREDRILL_AIRGAP") == "1", "use only the offline-built node image")
	fs.BoolVar(&f.retain, "retain", false, "keep a cluster whose create failed, for debugging")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %w", name, errUsage)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s takes no arguments, got %q: %w", name, fs.Args(), errUsage)
	}
	return f, nil
}

func (f *clusterFlags) kind() *cluster.Kind {
	opts := []cluster.Option{
		cluster.WithName(f.name), cluster.WithNodeImage(f.nodeImage),
		cluster.WithAirgap(f.airgap), cluster.WithRetainOnFailure(f.retain),
	}
	if f.config != "" {
		opts = append(opts, cluster.WithConfig(f.config))
	}
	if f.kubeconfig != "" {
		opts = append(opts, cluster.WithKubeconfig(f.kubeconfig))
	}
	return cluster.NewKind(opts...)
}

func runUp(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseClusterFlags("up", args)
	if err != nil {
		return err
	}
	c, err := f.kind().Up(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cluster %q is Ready (Kubernetes %s)\nexport KUBECONFIG=%s\n", c.Name, c.Version, c.Kubeconfig)
	return nil
}

func runDown(ctx context.Context, args []string, _ io.Writer) error {
	f, err := parseClusterFlags("down", args)
	if err != nil {
		return err
	}
	return f.kind().Down(ctx)
}
