package rollback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// Ports of the sample app.
const (
	appPort   = 8080
	adminPort = 9090
)

// Tracks label stable and canary pods behind the one Service.
const (
	TrackStable = "stable"
	TrackCanary = "canary"
)

// DeploymentOptions configure the native Deployment canary machinery.
type DeploymentOptions struct {
	// Namespace is the drill namespace everything is created in.
	Namespace string
	// App names the Service and prefixes the Deployments (default "app").
	App string
	// Image is the sample app image; it must be present on the nodes.
	Image string
	// NodePort publishes the Service on the nodes (0 lets Kubernetes choose).
	NodePort int32
	// Detection says what tells the machinery the canary is bad.
	Detection Detection
	// ProgressDeadline is the canary Deployment's progressDeadlineSeconds.
	ProgressDeadline time.Duration
	// Log receives one line per step (may be nil).
	Log io.Writer
	// TargetPort, when set, is the named container port the Service sends
	// user traffic to (e.g. a proxy sidecar's), instead of the app's port.
	TargetPort string
	// Template, when set, adjusts each track's pod template before it is
	// created (e.g. to add a fault sidecar).
	Template func(track string, tmpl *corev1.PodTemplateSpec) error
}

// Deployment is the native canary: stable and canary Deployments behind one
// Service, so the canary's traffic share follows the replica ratio. Rolling
// back is a pipeline-style step that scales the canary to zero.
type Deployment struct {
	client  kubernetes.Interface
	opts    DeploymentOptions
	stable  int32
	trigger chan string
}

// NewDeployment checks the options and returns the machinery; it creates nothing.
func NewDeployment(client kubernetes.Interface, o DeploymentOptions) (*Deployment, error) {
	if o.App == "" {
		o.App = "app"
	}
	if o.ProgressDeadline == 0 {
		o.ProgressDeadline = 15 * time.Second
	}
	switch {
	case o.Namespace == "":
		return nil, errors.New("deployment machinery: namespace is empty")
	case o.Image == "":
		return nil, errors.New("deployment machinery: image is empty")
	case o.ProgressDeadline < time.Second:
		return nil, fmt.Errorf("deployment machinery: progress deadline %s is under 1s", o.ProgressDeadline)
	}
	if err := o.Detection.Validate(); err != nil {
		return nil, fmt.Errorf("deployment machinery: %w", err)
	}
	return &Deployment{client: client, opts: o, trigger: make(chan string, 1)}, nil
}

// Name implements Machinery.
func (d *Deployment) Name() string { return "deployment" }

func (d *Deployment) logf(format string, args ...any) {
	if d.opts.Log != nil {
		fmt.Fprintf(d.opts.Log, "deployment machinery: "+format+"\n", args...)
	}
}

// DeployStable implements Machinery.
func (d *Deployment) DeployStable(ctx context.Context, stable Version) error {
	if stable.Replicas < 1 {
		return fmt.Errorf("stable version %s: replicas must be at least 1", stable.Name)
	}
	d.stable = stable.Replicas
	if _, err := d.client.CoreV1().ConfigMaps(d.opts.Namespace).Create(ctx, d.configMap(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create config map: %w", err)
	}
	if _, err := d.client.CoreV1().Services(d.opts.Namespace).Create(ctx, d.service(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	dep, err := d.deployment(TrackStable, stable)
	if err != nil {
		return err
	}
	if _, err := d.client.AppsV1().Deployments(d.opts.Namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create stable deployment: %w", err)
	}
	d.logf("waiting for %d stable pod(s) of %s", stable.Replicas, stable.Name)
	_, err = kube.WaitPods(ctx, d.client, d.opts.Namespace, d.selector(TrackStable), d.stableReady)
	return err
}

// StartCanary implements Machinery.
func (d *Deployment) StartCanary(ctx context.Context, canary Version) error {
	if canary.Replicas < 1 {
		return fmt.Errorf("canary version %s: replicas must be at least 1", canary.Name)
	}
	dep, err := d.deployment(TrackCanary, canary)
	if err != nil {
		return err
	}
	dep.Spec.ProgressDeadlineSeconds = ptr.To(int32(d.opts.ProgressDeadline.Seconds()))
	if _, err := d.client.AppsV1().Deployments(d.opts.Namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create canary deployment: %w", err)
	}
	d.logf("canary %s started with %d replica(s) beside %d stable", canary.Name, canary.Replicas, d.stable)
	return nil
}

// Trigger implements Machinery: the rollback hook fired by the harness.
func (d *Deployment) Trigger(reason string) {
	select {
	case d.trigger <- reason:
	default:
	}
}

// AwaitRollback implements Machinery.
func (d *Deployment) AwaitRollback(ctx context.Context) (Outcome, error) {
	out, err := d.decide(ctx)
	if err != nil {
		return out, err
	}
	d.logf("rolling back at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
	if err := d.scaleCanary(ctx, 0); err != nil {
		return out, err
	}
	out.Actuated, err = kube.WaitPods(ctx, d.client, d.opts.Namespace, d.selector(""), d.rolledBack)
	if err != nil {
		return out, fmt.Errorf("wait for rollback to finish: %w", err)
	}
	d.logf("rollback actuated: canary at zero, %d stable pod(s) ready", d.stable)
	return out, nil
}

// decide waits for the detection signal the scenario chose.
func (d *Deployment) decide(ctx context.Context) (Outcome, error) {
	if d.opts.Detection == DetectHarness {
		select {
		case reason := <-d.trigger:
			return Outcome{DetectedBy: DetectedByHarness, Reason: reason, Decided: time.Now()}, nil
		case <-ctx.Done():
			return Outcome{}, fmt.Errorf("no rollback hook fired: %w", ctx.Err())
		}
	}
	return d.kubernetesSignal(ctx)
}

// kubernetesSignal returns at the first Kubernetes signal that the canary is
// bad: a crashing canary pod or the progress deadline exceeded.
func (d *Deployment) kubernetesSignal(ctx context.Context) (Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan Outcome, 2)
	errs := make(chan error, 2)
	go func() {
		var reason string
		at, err := kube.WaitPods(ctx, d.client, d.opts.Namespace, d.selector(TrackCanary), func(pods []*corev1.Pod) (bool, error) {
			reason = crashing(pods)
			return reason != "", nil
		})
		report(found, errs, at, reason, err)
	}()
	go func() {
		var reason string
		at, err := kube.WaitDeployment(ctx, d.client, d.opts.Namespace, d.name(TrackCanary), func(dep *appsv1.Deployment) (bool, error) {
			reason = deadlineExceeded(dep)
			return reason != "", nil
		})
		report(found, errs, at, reason, err)
	}()
	select {
	case out := <-found:
		return out, nil
	case err := <-errs:
		return Outcome{}, fmt.Errorf("watch canary for Kubernetes signals: %w", err)
	}
}

func report(found chan<- Outcome, errs chan<- error, at time.Time, reason string, err error) {
	if err != nil {
		errs <- err
		return
	}
	found <- Outcome{DetectedBy: "kubernetes signals", Reason: reason, Decided: at}
}

// badWaiting are the waiting reasons that mean a pod will not come up by
// itself: it crashes, or its image cannot be pulled.
var badWaiting = map[string]bool{
	"CrashLoopBackOff": true, "ErrImagePull": true, "ImagePullBackOff": true,
	"ErrImageNeverPull": true, "InvalidImageName": true,
}

// crashing names the first canary pod whose container crashed or cannot
// start.
func crashing(pods []*corev1.Pod) string {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		for _, c := range p.Status.ContainerStatuses {
			if w := c.State.Waiting; w != nil && badWaiting[w.Reason] {
				return fmt.Sprintf("canary pod %s is in %s", p.Name, w.Reason)
			}
			if t := c.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 && c.RestartCount > 0 {
				return fmt.Sprintf("canary pod %s crashed (exit %d, %d restart(s))", p.Name, t.ExitCode, c.RestartCount)
			}
		}
	}
	return ""
}

// deadlineExceeded reports the Deployment condition that says it stalled.
func deadlineExceeded(dep *appsv1.Deployment) string {
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return "canary deployment exceeded its progress deadline: " + c.Message
		}
	}
	return ""
}

func (d *Deployment) scaleCanary(ctx context.Context, replicas int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := d.client.AppsV1().Deployments(d.opts.Namespace).Patch(ctx, d.name(TrackCanary), types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("scale canary to %d: %w", replicas, err)
	}
	return nil
}

// stableReady holds when exactly the wanted number of stable pods are Ready.
func (d *Deployment) stableReady(pods []*corev1.Pod) (bool, error) {
	ready := 0
	for _, p := range pods {
		if p.Labels["track"] == TrackStable && kube.PodReady(p) {
			ready++
		}
	}
	return int32(ready) >= d.stable, nil
}

// rolledBack holds when no canary pod is left and the stable pods are Ready.
func (d *Deployment) rolledBack(pods []*corev1.Pod) (bool, error) {
	for _, p := range pods {
		if p.Labels["track"] == TrackCanary {
			return false, nil
		}
	}
	return d.stableReady(pods)
}
