package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"

	"github.com/onsi/ginkgo/v2/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// runPlan prints what each selected drill would do. It writes nothing to any
// cluster: with --context it reads the cluster, through a client that
// refuses every write, to say which faults the cluster can run.
func runPlan(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	labels := fs.String("label-filter", "", "Ginkgo label filter, as for the drill suite (e.g. 'machinery:argo-rollouts && !slow')")
	focus := fs.String("focus", "", "regular expression on scenario names")
	kubeContext := fs.String("context", "", "kubeconfig context to check the faults against (read only)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file of --context (default: $KUBECONFIG or ~/.kube/config)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("plan: %w", errUsage)
	}
	selected, err := selectScenarios(*labels, *focus)
	if err != nil {
		return err
	}
	host, check, err := planHost(ctx, *kubeconfig, *kubeContext, out)
	if err != nil {
		return err
	}
	for _, s := range selected {
		p, err := drills.Plan(s, host, check)
		if err != nil {
			return err
		}
		p.Write(out)
	}
	fmt.Fprintf(out, "%d drill(s) planned; nothing was written to any cluster\n", len(selected))
	return nil
}

// selectScenarios applies a label filter and a name focus to the catalogue.
func selectScenarios(labelFilter, focus string) ([]drills.Scenario, error) {
	filter := func([]string) bool { return true }
	if labelFilter != "" {
		f, err := types.ParseLabelFilter(labelFilter)
		if err != nil {
			return nil, fmt.Errorf("plan: --label-filter: %w", err)
		}
		filter = f
	}
	var re *regexp.Regexp
	if focus != "" {
		var err error
		if re, err = regexp.Compile(focus); err != nil {
			return nil, fmt.Errorf("plan: --focus: %w", err)
		}
	}
	var out []drills.Scenario
	for _, s := range scenarios.All() {
		if filter(append(slices.Clone(s.Labels), scenarios.MachineryLabel(s))) && (re == nil || re.MatchString(s.Name)) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("plan: no scenario matches --label-filter %q --focus %q", labelFilter, focus)
	}
	return out, nil
}

// planHost reads what a reachable cluster offers the faults: whether Chaos
// Mesh is installed and, on a kind cluster firedrill created, node access
// and what the node's kernel can run. An existing cluster has no node
// access, so its native node faults say so.
func planHost(ctx context.Context, kubeconfig, kubeContext string, out io.Writer) (faults.Host, bool, error) {
	if kubeContext == "" {
		return faults.Host{}, false, nil
	}
	c, err := cluster.Existing(ctx, kubeconfig, kubeContext)
	if err != nil {
		return faults.Host{}, false, fmt.Errorf("plan: %w", err)
	}
	if c, err = c.ReadOnly(); err != nil {
		return faults.Host{}, false, err
	}
	fmt.Fprintf(out, "checking faults against context %s (%s, Kubernetes %s), read only\n", kubeContext, c.Name, c.Version)
	host := faults.Host{ChaosMissing: "this cluster has no chaos-mesh.org/v1alpha1 API"}
	_, err = c.Client.Discovery().ServerResourcesForGroupVersion("chaos-mesh.org/v1alpha1")
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return host, false, fmt.Errorf("plan: discover Chaos Mesh: %w", err)
	default:
		if host.Chaos, err = chaosmesh.NewClient(c.REST); err != nil {
			return host, false, err
		}
		host.ChaosMissing = ""
	}
	if _, err := c.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return host, false, fmt.Errorf("plan: list namespaces: %w", err)
	}
	if err := attachNodes(ctx, kubeconfig, kubeContext, &host, out); err != nil {
		return host, false, err
	}
	return host, true, nil
}

// attachNodes gives the plan node access on a kind cluster firedrill made,
// and probes its kernel the way the suite does. The probe adds a scratch
// network namespace on the node and deletes it; it writes nothing through
// the Kubernetes API.
func attachNodes(ctx context.Context, kubeconfig, kubeContext string, host *faults.Host, out io.Writer) error {
	name, own := cluster.OwnKind(kubeconfig, kubeContext)
	if !own {
		fmt.Fprintln(out, "no node access: node faults (pause, native partition) are checked as on an existing cluster")
		return nil
	}
	kind := cluster.NewKind(cluster.WithName(name))
	caps, err := faults.Probe(ctx, kind.NodeExec)
	if err != nil {
		return fmt.Errorf("plan: probe the nodes of kind cluster %s: %w", name, err)
	}
	host.Capabilities, host.NodeExec, host.Nodes = caps, kind.NodeExec, kind
	fmt.Fprintf(out, "node access: kind cluster %s, which firedrill created; its kernel: %s\n", name, caps)
	return nil
}
