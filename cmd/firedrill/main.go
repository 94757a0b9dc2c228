package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags and runs.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

var commands = []command{
	{"up", "create (or reuse) the kind drill cluster and wait until it is Ready", runUp},
	{"down", "delete the kind drill cluster", runDown},
	{"report", "render the drill reports in a directory, or gate their MTTR against a baseline", runReport},
	{"cleanup", "remove what dead runs left (expired leases; --all, --run ID): namespaces, chaos objects, paused nodes", runCleanup},
	{"plan", "print what each selected drill would do (namespace, objects, machinery, faults, budget, SLO); writes nothing", runPlan},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "firedrill:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("see `firedrill help`")

func dispatch(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(out)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], out)
		}
	}
	return fmt.Errorf("unknown command %q (want one of: %s): %w", args[0], commandNames(), errUsage)
}

func commandNames() string {
	s := ""
	for i, c := range commands {
		if i > 0 {
			s += ", "
		}
		s += c.name
	}
	return s
}

func usage(out io.Writer) {
	fmt.Fprintln(out, "usage: firedrill <command> [flags]")
	for _, c := range commands {
		fmt.Fprintf(out, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(out, "  firedrill cleanup [--all | --run ID] [--cluster NAME | --context CTX [--kubeconfig FILE]]")
	fmt.Fprintln(out, "  firedrill plan [--label-filter EXPR] [--focus REGEXP] [--context CTX [--kubeconfig FILE]]")
	fmt.Fprintln(out, "reports (no cluster needed):")
	fmt.Fprintln(out, "  firedrill report render DIR")
	fmt.Fprintln(out, "  firedrill report compare --baseline FILE [--tolerance 0.2] [--slack 500ms] [--update-baseline] DIR")
	fmt.Fprintln(out, "  firedrill report audit DIR")
	fmt.Fprintln(out, "environment: FIREDRILL_AIRGAP=1 uses only the offline node image; FIREDRILL_NODE_IMAGE forces one; FIREDRILL_CACHE moves the cache (default ~/.cache/firedrill)")
}
