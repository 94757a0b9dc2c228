package rollback

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// base is what every machinery of this package shares: the workload it
// deploys and its alert hook, with the Trigger method and the decision.
type base struct {
	w    workload
	hook hook
}

func newBase(machinery string, e Env) base {
	return base{w: workload{env: e}, hook: newHook(machinery, e.Detection)}
}

// Trigger implements Machinery: the alert hook.
func (b base) Trigger(ctx context.Context, reason string) error {
	return b.hook.trigger(ctx, reason)
}

// decide waits for the detection the scenario chose: the alert hook, or the
// first Kubernetes signal on the pods matching selector and on deployment.
func (b base) decide(ctx context.Context, selector, deployment string) (Outcome, error) {
	return b.hook.decide(ctx, func(ctx context.Context) (Outcome, error) {
		return kubernetesSignal(ctx, b.w.env.Client, b.w.env.Namespace, selector, deployment)
	})
}

// hook is the alert hook of a machinery whose detection may be delegated to
// the harness: Trigger fills it, the decision reads it.
type hook struct {
	machinery string
	detection Detection
	fired     chan string
}

func newHook(machinery string, d Detection) hook {
	return hook{machinery: machinery, detection: d, fired: make(chan string, 1)}
}

// trigger records the first alert; later ones are kept out, as a pipeline
// ignores a second page for an incident it is already handling.
func (h hook) trigger(ctx context.Context, reason string) error {
	if h.detection != DetectHarness {
		return fmt.Errorf("%s: alert hook called, but detection is %q", h.machinery, h.detection)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: alert hook: %w", h.machinery, err)
	}
	select {
	case h.fired <- reason:
	default:
	}
	return nil
}

// decide waits for the detection the scenario chose: the alert hook, or
// the first Kubernetes signal on the new version's pods and Deployment.
func (h hook) decide(ctx context.Context, signals func(context.Context) (Outcome, error)) (Outcome, error) {
	if h.detection != DetectHarness {
		return signals(ctx)
	}
	select {
	case reason := <-h.fired:
		return Outcome{DetectedBy: DetectedByHarness, Reason: reason, Decided: time.Now()}, nil
	case <-ctx.Done():
		return Outcome{}, fmt.Errorf("no rollback hook fired: %w", ctx.Err())
	}
}

// kubernetesSignal returns at the first Kubernetes signal that the new
// version is bad: one of its pods crashed or cannot start, or deployment
// exceeded its progress deadline.
func kubernetesSignal(ctx context.Context, client kubernetes.Interface, ns, selector, deployment string) (Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan Outcome, 2)
	errs := make(chan error, 2)
	go func() {
		var reason string
		at, err := kube.WaitPods(ctx, client, ns, selector, func(pods []*corev1.Pod) (bool, error) {
			reason = kube.FirstCrash(pods)
			return reason != "", nil
		})
		report(found, errs, at, "new version: "+reason, err)
	}()
	go func() {
		var reason string
		at, err := kube.WaitDeployment(ctx, client, ns, deployment, func(dep *appsv1.Deployment) (bool, error) {
			reason = deadlineExceeded(dep)
			return reason != "", nil
		})
		report(found, errs, at, reason, err)
	}()
	select {
	case out := <-found:
		return out, nil
	case err := <-errs:
		return Outcome{}, fmt.Errorf("watch the new version for Kubernetes signals: %w", err)
	}
}

func report(found chan<- Outcome, errs chan<- error, at time.Time, reason string, err error) {
	if err != nil {
		errs <- err
		return
	}
	found <- Outcome{DetectedBy: DetectedByKubernetes, Reason: reason, Decided: at}
}

// deadlineExceeded reports the Deployment condition that says it stalled.
func deadlineExceeded(dep *appsv1.Deployment) string {
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return "deployment " + dep.Name + " exceeded its progress deadline: " + c.Message
		}
	}
	return ""
}
