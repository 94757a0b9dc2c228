package rollback

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// CanaryHook is the machinery name of the native canary.
const CanaryHook = "canary-hook"

// Tracks label the stable and canary pods of the native canary.
const (
	labelTrack  = "track"
	trackStable = "stable"
	trackCanary = "canary"
)

func init() {
	Register(Spec{
		Name:     CanaryHook,
		Summary:  "stable and canary Deployments behind one Service; a pipeline hook scales the canary to zero",
		Separate: true,
		Check: func(p Plan) error {
			if err := checkReplicas("canary", p.Canary); err != nil {
				return err
			}
			return checkDetection(p.Detection, DetectKubernetes, DetectHarness)
		},
		// One Service balances over every ready pod: the canary's share is
		// its share of the replicas.
		Share: func(p Plan) float64 {
			return float64(p.Canary.Replicas) / float64(p.Canary.Replicas+p.Stable.Replicas)
		},
		New: func(e Env, p Plan) (Machinery, error) {
			return &canaryHook{base: newBase(CanaryHook, e), stable: p.Stable, canary: p.Canary}, nil
		},
	})
}

// canaryHook is the native canary: stable and canary Deployments behind one
// Service, so the canary's traffic share follows the replica ratio. Rolling
// back is a pipeline-style step that scales the canary to zero.
//
// Decided is the hook firing (harness detection) or the first Kubernetes
// signal on the canary. Actuated is no canary pod left and every stable pod
// Ready.
type canaryHook struct {
	base
	stable  Version
	canary  Version
	started bool
}

func (c *canaryHook) Name() string { return CanaryHook }

func (c *canaryHook) name(track string) string { return ownName(track) }

func trackLabels(track string) map[string]string { return appLabels(labelTrack, track) }

func (c *canaryHook) logf(format string, args ...any) { c.w.logf(CanaryHook, format, args...) }

func (c *canaryHook) Placement() Placement {
	return placement(ownDeployment(labelTrack, trackStable), ownDeployment(labelTrack, trackCanary))
}

func (c *canaryHook) DeployStable(ctx context.Context, stable Version) error {
	client, ns := c.w.env.Client, c.w.env.Namespace
	if err := c.w.setUp(ctx, map[string]string{LabelApp: App}); err != nil {
		return err
	}
	dep, err := c.w.deployment(c.name(trackStable), trackLabels(trackStable), stable, false)
	if err != nil {
		return err
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create stable deployment: %w", err)
	}
	c.logf("waiting for %d stable pod(s) of %s", stable.Replicas, stable.Name)
	_, err = kube.WaitPods(ctx, client, ns, c.Placement().Stable.Selector, c.stableReady)
	return err
}

func (c *canaryHook) StartCanary(ctx context.Context, canary Version) error {
	dep, err := c.w.deployment(c.name(trackCanary), trackLabels(trackCanary), canary, true)
	if err != nil {
		return err
	}
	if _, err := c.w.env.Client.AppsV1().Deployments(c.w.env.Namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create canary deployment: %w", err)
	}
	c.started = true
	c.logf("canary %s started with %d replica(s) beside %d stable", canary.Name, canary.Replicas, c.stable.Replicas)
	return nil
}

// Serving reads the Deployments' replica counts: a track serves while it
// has replicas.
func (c *canaryHook) Serving(ctx context.Context) (Serving, error) {
	var s Serving
	for _, t := range []struct {
		track   string
		version Version
	}{{trackStable, c.stable}, {trackCanary, c.canary}} {
		if t.track == trackCanary && !c.started {
			continue
		}
		dep, err := c.w.env.Client.AppsV1().Deployments(c.w.env.Namespace).Get(ctx, c.name(t.track), metav1.GetOptions{})
		if err != nil {
			return s, fmt.Errorf("read %s deployment: %w", t.track, err)
		}
		n := ptr.Deref(dep.Spec.Replicas, 1)
		if n > 0 {
			s.Versions = append(s.Versions, t.version.Name)
		}
		s.Detail += fmt.Sprintf("%s %s: %d replica(s); ", t.track, t.version.Name, n)
	}
	return s, nil
}

func (c *canaryHook) AwaitRollback(ctx context.Context) (Outcome, error) {
	p := c.Placement()
	out, err := c.decide(ctx, p.Canary.Selector, p.Canary.Deployment)
	if err != nil {
		return out, err
	}
	c.logf("rolling back at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
	if err := c.scaleCanary(ctx, 0); err != nil {
		return out, err
	}
	out.Actuated, err = kube.WaitPods(ctx, c.w.env.Client, c.w.env.Namespace, p.All, c.rolledBack)
	if err != nil {
		return out, fmt.Errorf("wait for rollback to finish: %w", err)
	}
	out.Actuation = fmt.Sprintf("canary at zero, %d stable pod(s) Ready", c.stable.Replicas)
	out.Evidence = []Evidence{
		{Name: "canary replicas", Value: fmt.Sprintf("%d → 0", c.canary.Replicas)},
		{Name: "stable pods Ready", Value: fmt.Sprint(c.stable.Replicas)},
	}
	c.logf("rollback actuated: %s", out.Actuation)
	return out, nil
}

func (c *canaryHook) scaleCanary(ctx context.Context, replicas int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := c.w.env.Client.AppsV1().Deployments(c.w.env.Namespace).Patch(ctx, c.name(trackCanary), types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("scale canary to %d: %w", replicas, err)
	}
	return nil
}

// stableReady holds when the wanted number of stable pods are Ready.
func (c *canaryHook) stableReady(pods []*corev1.Pod) (bool, error) {
	return countReady(pods, trackLabels(trackStable)) >= c.stable.Replicas, nil
}

// rolledBack holds when no canary pod is left and the stable pods are Ready.
func (c *canaryHook) rolledBack(pods []*corev1.Pod) (bool, error) {
	for _, p := range pods {
		if p.Labels[labelTrack] == trackCanary {
			return false, nil
		}
	}
	return c.stableReady(pods)
}

// countReady counts the Ready pods carrying every label of want.
func countReady(pods []*corev1.Pod, want map[string]string) int32 {
	var n int32
	for _, p := range pods {
		if kube.PodReady(p) && maps.EqualFunc(want, pick(p.Labels, want), func(a, b string) bool { return a == b }) {
			n++
		}
	}
	return n
}

// pick returns the labels of have named in want.
func pick(have, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := have[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Creates implements Describer.
func (c *canaryHook) Creates() []string {
	return append(c.w.objects(), "Deployment "+c.name(trackStable)+" ("+replicasOf(c.stable)+")",
		"Deployment "+c.name(trackCanary)+" ("+replicasOf(c.canary)+")")
}
