package chaosmesh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
)

// Release and namespace of the Chaos Mesh installation.
const (
	ReleaseName = "chaos-mesh"
	Namespace   = "chaos-mesh"
	// InjectAnnotation must be on a namespace for Chaos Mesh to target it:
	// the install enables namespace filtering so that only drill
	// namespaces can be hit.
	InjectAnnotation = "chaos-mesh.org/inject"
)

// PauseImage is the pause image pod-failure chaos runs in place of the
// target's containers: the sandbox image preloaded on the node.
const PauseImage = "registry.k8s.io/pause:3.10"

// Install says what to install and where.
type Install struct {
	// ChartDir is the helm/chaos-mesh directory of the chaos-mesh module.
	ChartDir string
	// Registry and Tag locate the offline images: the chart builds
	// <registry>/chaos-mesh/chaos-mesh:<tag> and <registry>/chaos-mesh/chaos-daemon:<tag>.
	Registry, Tag string
	// Kubeconfig and Context reach the cluster.
	Kubeconfig, Context string
	// Client is used for the readiness wait, and to check that a release
	// it reuses is whole.
	Client kubernetes.Interface
	// Log receives progress lines (may be nil).
	Log io.Writer
	// Labels go on every object the install creates, CRDs included (the
	// run's label: which run installed Chaos Mesh).
	Labels map[string]string
}

// values points the chart at the local images and keeps the install small:
// one controller, no dashboard or DNS server, containerd as the runtime, and
// namespace filtering so that only annotated (drill) namespaces are targets.
func (in Install) values() map[string]any {
	return map[string]any{
		"images": map[string]any{"registry": in.Registry, "tag": in.Tag},
		"controllerManager": map[string]any{
			"replicaCount":          1,
			"enableFilterNamespace": true,
			// pod-failure swaps containers for a pause image; use the one
			// preloaded on kind nodes, since nothing can be pulled.
			"podChaos": map[string]any{"podFailure": map[string]any{"pauseImage": PauseImage}},
		},
		"chaosDaemon": map[string]any{
			"runtime":    "containerd",
			"socketPath": "/run/containerd/containerd.sock",
		},
		"dashboard": map[string]any{"create": false},
		"dnsServer": map[string]any{"create": false},
	}
}

func (in Install) logf(format string, args ...any) {
	if in.Log != nil {
		fmt.Fprintf(in.Log, "chaos-mesh: "+format+"\n", args...)
	}
}

func (in Install) config() (*action.Configuration, error) {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Context = &in.Kubeconfig, &in.Context
	ns := Namespace
	flags.Namespace = &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, Namespace, "secret", func(string, ...any) {}); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	return cfg, nil
}

// Run installs Chaos Mesh, or reuses a release already deployed with the
// same image tag, and waits until the controller and the daemons are Ready.
func (in Install) Run(ctx context.Context) error {
	cfg, err := in.config()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := in.installOrReuse(ctx, cfg); err != nil {
		return err
	}
	if err := WaitReady(ctx, in.Client); err != nil {
		return err
	}
	in.logf("ready (%.1fs)", time.Since(start).Seconds())
	return nil
}

func (in Install) installOrReuse(ctx context.Context, cfg *action.Configuration) error {
	rel, err := action.NewGet(cfg).Run(ReleaseName)
	switch {
	case err == nil && rel.Info.Status.IsPending():
		return fmt.Errorf("helm release %s is %s: run `firedrill cleanup` or uninstall it first", ReleaseName, rel.Info.Status)
	case err == nil && sameValues(rel.Config, in.values()):
		if missing := in.missing(ctx); missing != "" {
			// An uninstall cut short (a killed suite's teardown) leaves the
			// release recorded but some of its objects gone: an upgrade
			// puts them back.
			in.logf("repairing release %s: %s", ReleaseName, missing)
			return in.upgrade(ctx, cfg)
		}
		in.logf("reusing release %s (images %s)", ReleaseName, in.Tag)
		return nil
	case err == nil:
		in.logf("upgrading release %s to images %s", ReleaseName, in.Tag)
		return in.upgrade(ctx, cfg)
	case errors.Is(err, driver.ErrReleaseNotFound):
		in.logf("installing chart %s with images %s/*:%s", in.ChartDir, in.Registry, in.Tag)
		return in.install(ctx, cfg)
	}
	return fmt.Errorf("helm get %s: %w", ReleaseName, err)
}

// controllerService is the Service the admission webhooks call; without it
// no chaos object can be created.
const controllerService = "chaos-mesh-controller-manager"

// missing names what a reusable release lacks, or returns "".
func (in Install) missing(ctx context.Context) string {
	if _, err := in.Client.CoreV1().Services(Namespace).Get(ctx, controllerService, metav1.GetOptions{}); err != nil {
		return fmt.Sprintf("its Service %s is gone (%s)", controllerService, err)
	}
	return ""
}

// sameValues compares Helm values through JSON, since a stored release's
// numbers come back as float64.
func sameValues(a, b map[string]any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func (in Install) install(ctx context.Context, cfg *action.Configuration) error {
	chart, err := loader.Load(in.ChartDir)
	if err != nil {
		return fmt.Errorf("load chart %s: %w", in.ChartDir, err)
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName, inst.Namespace, inst.CreateNamespace = ReleaseName, Namespace, true
	if len(in.Labels) > 0 {
		inst.PostRenderer = labelRenderer(in.Labels)
	}
	if _, err := inst.RunWithContext(ctx, chart, in.values()); err != nil {
		return fmt.Errorf("helm install %s: %w", ReleaseName, err)
	}
	return in.labelCRDs(ctx, cfg, chart)
}

func (in Install) upgrade(ctx context.Context, cfg *action.Configuration) error {
	chart, err := loader.Load(in.ChartDir)
	if err != nil {
		return fmt.Errorf("load chart %s: %w", in.ChartDir, err)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = Namespace
	if len(in.Labels) > 0 {
		up.PostRenderer = labelRenderer(in.Labels)
	}
	if _, err := up.RunWithContext(ctx, ReleaseName, chart, in.values()); err != nil {
		return fmt.Errorf("helm upgrade %s: %w", ReleaseName, err)
	}
	return in.labelCRDs(ctx, cfg, chart)
}

// Uninstall removes the release and waits until its namespace's workloads
// are gone. The CRDs stay, as with any Helm uninstall, so that chaos objects
// left behind elsewhere remain visible and removable.
func (in Install) Uninstall(ctx context.Context) error {
	cfg, err := in.config()
	if err != nil {
		return err
	}
	un := action.NewUninstall(cfg)
	un.Wait, un.Timeout = true, 2*time.Minute
	if _, err := un.Run(ReleaseName); err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return fmt.Errorf("helm uninstall %s: %w", ReleaseName, err)
	}
	in.logf("uninstalled")
	return nil
}

// readyPoll is how often WaitReady asks the API server.
const readyPoll = time.Second

// WaitReady waits until the controller Deployment and the daemon DaemonSet
// have all their pods Ready.
func WaitReady(ctx context.Context, client kubernetes.Interface) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, readyPoll, true, func(ctx context.Context) (bool, error) {
		dep, err := client.AppsV1().Deployments(Namespace).Get(ctx, "chaos-controller-manager", metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		ds, err := client.AppsV1().DaemonSets(Namespace).Get(ctx, "chaos-daemon", metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = readiness(dep, ds)
		return last == "", nil
	})
	if err != nil {
		return fmt.Errorf("chaos mesh not ready: %w (%s)", err, last)
	}
	return nil
}

// readiness says what is not ready yet, or "" when both are.
func readiness(dep *appsv1.Deployment, ds *appsv1.DaemonSet) string {
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	switch {
	case dep.Status.ReadyReplicas < want:
		return fmt.Sprintf("controller %d/%d ready", dep.Status.ReadyReplicas, want)
	case ds.Status.DesiredNumberScheduled == 0 || ds.Status.NumberReady < ds.Status.DesiredNumberScheduled:
		return fmt.Sprintf("daemon %d/%d ready", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled)
	}
	return ""
}
