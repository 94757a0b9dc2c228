package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/expiry"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/exec"
)

// DefaultName is the kind cluster name drills use unless told otherwise.
const DefaultName = "firedrill"

// Kind creates, reuses and deletes a kind cluster.
type Kind struct {
	name       string
	configPath string
	nodeImage  string
	airgap     bool
	kubeconfig string
	logDir     string
	retain     bool
	readyWait  time.Duration
	portOffset int32
	progress   progress
	provider   *kindcluster.Provider
}

// Option configures a Kind cluster.
type Option func(*Kind)

// WithName sets the kind cluster name (default DefaultName).
func WithName(name string) Option { return func(k *Kind) { k.name = name } }

// WithConfig sets the kind config file (default: kind-config.yaml found in
// the working directory or a parent).
func WithConfig(path string) Option { return func(k *Kind) { k.configPath = path } }

// WithNodeImage forces a node image and skips the image choice.
func WithNodeImage(image string) Option { return func(k *Kind) { k.nodeImage = image } }

// WithAirgap makes the offline-built node image the only choice.
func WithAirgap(airgap bool) Option { return func(k *Kind) { k.airgap = airgap } }

// WithKubeconfig sets the dedicated kubeconfig file (default in CacheDir).
func WithKubeconfig(path string) Option { return func(k *Kind) { k.kubeconfig = path } }

// WithLogDir sets where cluster logs go when create fails.
func WithLogDir(dir string) Option { return func(k *Kind) { k.logDir = dir } }

// WithRetainOnFailure keeps a cluster whose create failed, for debugging.
func WithRetainOnFailure(retain bool) Option { return func(k *Kind) { k.retain = retain } }

// WithReadyTimeout bounds the readiness wait after create (default 3m).
func WithReadyTimeout(d time.Duration) Option { return func(k *Kind) { k.readyWait = d } }

// WithHostPortOffset shifts every host port of the config's port mappings,
// so a second cluster (such as the end-to-end test's) can run beside the
// drill cluster without a port clash.
func WithHostPortOffset(offset int32) Option { return func(k *Kind) { k.portOffset = offset } }

// WithProgress sets where progress lines go (default os.Stderr; nil silences).
func WithProgress(w io.Writer) Option { return func(k *Kind) { k.progress = progress{out: w} } }

// NewKind returns a kind cluster handle; nothing is created until Up.
func NewKind(opts ...Option) *Kind {
	k := &Kind{name: DefaultName, readyWait: 3 * time.Minute, progress: progress{out: os.Stderr}}
	for _, o := range opts {
		o(k)
	}
	if k.kubeconfig == "" {
		k.kubeconfig = filepath.Join(CacheDir(), "kubeconfig", k.name)
	}
	if k.logDir == "" {
		k.logDir = filepath.Join(CacheDir(), "logs", "cluster-"+k.name)
	}
	k.provider = kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(cmd.NewLogger()))
	return k
}

// Name returns the kind cluster name.
func (k *Kind) Name() string { return k.name }

// Exists reports whether a kind cluster of this name exists.
func (k *Kind) Exists(ctx context.Context) (bool, error) {
	names, err := inBackground(ctx, k.provider.List)
	if err != nil {
		return false, fmt.Errorf("list kind clusters: %w", err)
	}
	return slices.Contains(names, k.name), nil
}

// Up creates the cluster, or reuses an existing one of the same name, and
// returns it once every node and kube-system pod is Ready.
func (k *Kind) Up(ctx context.Context) (*Cluster, error) {
	exists, err := k.Exists(ctx)
	if err != nil {
		return nil, err
	}
	if exists && !k.sameConfig() {
		// Port mappings and node patches are fixed at create: a cluster
		// made from another config would silently lack them.
		k.progress.printf("kind cluster %q was created from another config: recreating it", k.name)
		if err := k.Down(ctx); err != nil {
			return nil, err
		}
		exists = false
	}
	if exists && !k.nodesRunning(ctx) {
		// A cluster whose node containers stopped (a host or Docker
		// restart) does not come back reliably: start afresh.
		k.progress.printf("kind cluster %q exists but its nodes are not running: recreating it", k.name)
		if err := k.Down(ctx); err != nil {
			return nil, err
		}
		exists = false
	}
	if exists {
		k.progress.printf("reusing kind cluster %q", k.name)
		if err := k.exportKubeconfig(ctx); err != nil {
			return nil, err
		}
	} else if err := k.create(ctx); err != nil {
		return nil, err
	}
	return k.connectReady(ctx, !exists)
}

// nodesRunning reports whether every node container runs and is not paused.
func (k *Kind) nodesRunning(ctx context.Context) bool {
	names, err := k.NodeContainers(ctx)
	if err != nil || len(names) == 0 {
		return false
	}
	for _, n := range names {
		running, paused, err := k.NodeState(ctx, n)
		if err != nil || !running || paused {
			return false
		}
	}
	return true
}

func (k *Kind) connectReady(ctx context.Context, created bool) (*Cluster, error) {
	c, err := connect(ctx, k.kubeconfig, "kind-"+k.name)
	if err != nil {
		return nil, err
	}
	c.Kind, c.Name = KindCluster, k.name
	start := time.Now()
	if created {
		if err := tuneReadiness(ctx, c.Client); err != nil {
			return nil, fmt.Errorf("kind cluster %q: %w", k.name, err)
		}
	}
	readyCtx, cancel := context.WithTimeout(ctx, k.readyWait)
	defer cancel()
	if err := WaitReady(readyCtx, c.Client, k.progress.out); err != nil {
		return nil, fmt.Errorf("kind cluster %q not ready: %w", k.name, err)
	}
	k.progress.done(fmt.Sprintf("kind cluster %q ready, Kubernetes %s", k.name, c.Version), start)
	return c, nil
}

func (k *Kind) create(ctx context.Context) error {
	cfg, err := k.loadConfig()
	if err != nil {
		return err
	}
	image, err := k.chooseNodeImage(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(k.kubeconfig), 0o755); err != nil {
		return err
	}
	k.progress.printf("creating kind cluster %q with node image %s", k.name, image)
	start := time.Now()
	warmCtx, stopWarm := context.WithCancel(ctx)
	defer stopWarm()
	go k.warmNode(warmCtx)
	_, err = inBackground(ctx, func() (struct{}, error) {
		return struct{}{}, k.provider.Create(k.name,
			kindcluster.CreateWithV1Alpha4Config(cfg),
			kindcluster.CreateWithNodeImage(image),
			kindcluster.CreateWithKubeconfigPath(k.kubeconfig),
			kindcluster.CreateWithRetain(true),
			kindcluster.CreateWithDisplayUsage(false),
			kindcluster.CreateWithDisplaySalutation(false))
	})
	if err != nil {
		return k.failedCreate(err)
	}
	k.progress.done("kind cluster created", start)
	return k.writeConfigStamp()
}

// failedCreate keeps the evidence of a failed create: logs first, then the
// cluster is deleted unless retention was asked for.
func (k *Kind) failedCreate(cause error) error {
	if err := k.provider.CollectLogs(k.name, k.logDir); err != nil {
		k.progress.printf("collect logs of %q: %v", k.name, err)
	} else {
		k.progress.printf("cluster logs kept in %s", k.logDir)
	}
	if !k.retain {
		if err := k.provider.Delete(k.name, k.kubeconfig); err != nil {
			k.progress.printf("delete failed cluster %q: %v", k.name, err)
		}
	}
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("create kind cluster %q interrupted: %w", k.name, cause)
	}
	return fmt.Errorf("create kind cluster %q failed (logs in %s): %w", k.name, k.logDir, cause)
}

func (k *Kind) exportKubeconfig(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(k.kubeconfig), 0o755); err != nil {
		return err
	}
	_, err := inBackground(ctx, func() (struct{}, error) {
		return struct{}{}, k.provider.ExportKubeConfig(k.name, k.kubeconfig, false)
	})
	if err != nil {
		return fmt.Errorf("export kubeconfig of %q: %w", k.name, err)
	}
	return nil
}

// Down deletes the cluster and its kubeconfig file. Deleting a cluster that
// does not exist is not an error.
func (k *Kind) Down(ctx context.Context) error {
	start := time.Now()
	_, err := inBackground(ctx, func() (struct{}, error) {
		return struct{}{}, k.provider.Delete(k.name, k.kubeconfig)
	})
	if err != nil {
		return fmt.Errorf("delete kind cluster %q: %w", k.name, err)
	}
	if err := os.Remove(k.kubeconfig); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	k.progress.done(fmt.Sprintf("kind cluster %q deleted", k.name), start)
	return nil
}

// CollectLogs exports the nodes' logs (journal, containers, pods) into dir.
func (k *Kind) CollectLogs(ctx context.Context, dir string) error {
	_, err := inBackground(ctx, func() (struct{}, error) {
		return struct{}{}, k.provider.CollectLogs(k.name, dir)
	})
	return err
}

// inBackground runs a call that takes no context and returns early with
// ctx's error when ctx ends first. The call itself keeps running: kind offers
// no way to stop it, and callers clean up after it (see failedCreate).
func inBackground[T any](ctx context.Context, call func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// NodeExec runs a command on the cluster's first control-plane node and
// returns its combined output, for host probes such as the fault
// capability probe.
func (k *Kind) NodeExec(ctx context.Context, args ...string) (string, error) {
	nodeList, err := inBackground(ctx, func() ([]nodes.Node, error) { return k.provider.ListInternalNodes(k.name) })
	if err != nil || len(nodeList) == 0 {
		return "", fmt.Errorf("no node in kind cluster %q: %v", k.name, err)
	}
	var out strings.Builder
	err = nodeList[0].CommandContext(ctx, args[0], args[1:]...).SetStdout(&out).SetStderr(&out).Run()
	return out.String(), err
}

// NodeContainers names the Docker containers of the cluster's nodes.
func (k *Kind) NodeContainers(ctx context.Context) ([]string, error) {
	nodeList, err := inBackground(ctx, func() ([]nodes.Node, error) { return k.provider.ListNodes(k.name) })
	if err != nil {
		return nil, fmt.Errorf("list nodes of %q: %w", k.name, err)
	}
	names := make([]string, len(nodeList))
	for i, n := range nodeList {
		names[i] = n.String()
	}
	return names, nil
}

// NodeAction runs a Docker lifecycle action (pause, unpause, stop, start)
// on one node container of the cluster, for node faults.
func (k *Kind) NodeAction(ctx context.Context, action, node string) error {
	if err := k.checkNodeAction(ctx, action, node); err != nil {
		return err
	}
	out, err := exec.CombinedOutputLines(exec.CommandContext(ctx, "docker", action, node))
	if err != nil {
		return fmt.Errorf("docker %s %s: %w: %s", action, node, err, strings.Join(out, " "))
	}
	return nil
}

// ScheduleNodeAction arms a host timer, in a session of its own, that runs
// the Docker action on the node after the delay, whether or not this
// process still lives: a node fault's way to end by itself.
func (k *Kind) ScheduleNodeAction(ctx context.Context, marker string, after time.Duration, action, node string) error {
	if err := k.checkNodeAction(ctx, action, node); err != nil {
		return err
	}
	return expiry.StartHost(marker, after, []string{"docker", action, node})
}

// CancelScheduled stops the host timers whose marker starts with marker.
func (k *Kind) CancelScheduled(ctx context.Context, marker string) (int, error) {
	return expiry.Cancel(ctx, expiry.Host, marker)
}

// checkNodeAction refuses an unknown action and a node of another cluster.
func (k *Kind) checkNodeAction(ctx context.Context, action, node string) error {
	switch action {
	case "pause", "unpause", "stop", "start":
	default:
		return fmt.Errorf("node action %q: want pause, unpause, stop or start", action)
	}
	names, err := k.NodeContainers(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(names, node) {
		return fmt.Errorf("%q is not a node of kind cluster %q (nodes: %v)", node, k.name, names)
	}
	return nil
}

// NodeState reports whether a node container is running and whether it is
// paused, as Docker sees it.
func (k *Kind) NodeState(ctx context.Context, node string) (running, paused bool, err error) {
	out, err := exec.Output(exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.State.Running}} {{.State.Paused}}", node))
	if err != nil {
		return false, false, fmt.Errorf("docker inspect %s: %w", node, err)
	}
	fields := strings.Fields(string(out))
	return len(fields) == 2 && fields[0] == "true", len(fields) == 2 && fields[1] == "true", nil
}

// Attach connects to the kind cluster that Up brought up (in this or
// another process), without creating, exporting or waiting for anything:
// parallel drill processes share the cluster that process 1 made.
func (k *Kind) Attach(ctx context.Context) (*Cluster, error) {
	c, err := connect(ctx, k.kubeconfig, "kind-"+k.name)
	if err != nil {
		return nil, fmt.Errorf("attach to kind cluster %q: %w", k.name, err)
	}
	c.Kind, c.Name = KindCluster, k.name
	return c, nil
}
