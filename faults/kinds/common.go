package kinds

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// Backends.
const (
	ChaosMesh = "chaosmesh"
	Native    = "native"
	Toxiproxy = "toxiproxy"
)

// What ends a fault should firedrill die mid-drill, said once per cause.
var (
	// ifDiesChaos: a Chaos Mesh object outlives its injector by design.
	ifDiesChaos = "Chaos Mesh's controller ends it at its duration; the chaos object, and a fault without a duration, stay until firedrill cleanup"
	// ifDiesOneShot: nothing is left running.
	ifDiesOneShot = "nothing to end: it acts once; firedrill cleanup removes the drill namespace"
	// ifDiesNamespaced: the change lives in the drill namespace.
	ifDiesNamespaced = "stays until firedrill cleanup deletes the drill namespace, which holds the change"
	// ifDiesNodeTimer: the native partition's and the toxic's timer.
	ifDiesNodeTimer = fmt.Sprintf("a timer on the node, in its own session, removes it by its duration + %s (or the drill's wall-clock cap + %[1]s); without node access, firedrill cleanup deletes the pods and it with them", faults.ExpiryMargin)
	// ifDiesHostTimer: the node pause's timer.
	ifDiesHostTimer = fmt.Sprintf("a host timer, in its own session, brings the node back by its duration + %s (or the drill's wall-clock cap + %[1]s); firedrill cleanup does it from the run's Lease", faults.ExpiryMargin)
)

// Chaos Mesh CRD kinds whose availability the host probe answers.
const (
	crdPodChaos  = "PodChaos"
	crdTimeChaos = "TimeChaos"
)

// unavailable answers, for a kind whose Chaos Mesh backend uses crd, why a
// backend cannot run on this host, or "".
func unavailable(crd string) func(faults.Host, string) string {
	return func(h faults.Host, backend string) string {
		switch backend {
		case ChaosMesh:
			if reason, skip := h.Capabilities.Skip(crd); skip {
				return crd + " cannot run here: " + reason
			}
			if h.Chaos == nil {
				return "Chaos Mesh is not installed: " + h.ChaosMissing
			}
		case Toxiproxy:
			if h.ToxiproxyImage == "" {
				return "no Toxiproxy sidecar image (FIREDRILL_TOXIPROXY_IMAGE unset; run through make)"
			}
		case Native:
		default:
			return "unknown backend " + backend
		}
		return ""
	}
}

// chaosMeta names a chaos object after its kind and the drill.
func chaosMeta(env faults.Env, kind string) chaosmesh.Meta {
	return chaosmesh.Meta{Name: kind + "-" + env.Name, Namespace: env.Namespace, Labels: env.Labels}
}

// chaosTarget aims a chaos object at one target's pods.
func chaosTarget(env faults.Env, t faults.Target) chaosmesh.Target {
	return chaosmesh.Target{Namespace: env.Namespace, Labels: env.Site(t).Labels}
}

// chaos wraps a built chaos object with its data-plane confirmation.
func chaos(env faults.Env, kind string, obj chaosmesh.Object, confirm func(context.Context) error) *chaosmesh.Chaos {
	return &chaosmesh.Chaos{Client: env.Chaos, Object: obj, FaultName: kind, Confirm: confirm}
}

// failedRequest is the effect of a fault that makes requests fail.
func failedRequest(faults.Spec) *faults.Effect {
	return &faults.Effect{Describe: "a failed user request seen", Seen: func(failed bool, _ time.Duration) bool { return failed }}
}

// snapshot lists the target's pods now, for a confirmation that compares.
func snapshot(ctx context.Context, env faults.Env, site faults.Site) ([]corev1.Pod, error) {
	list, err := env.Client.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: site.Selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %s: %w", site.Selector, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no pod matches %s", site.Selector)
	}
	return list.Items, nil
}

// waitPods waits until cond holds for the target's pods.
func waitPods(ctx context.Context, env faults.Env, site faults.Site, cond kube.PodCondition) error {
	_, err := kube.WaitPods(ctx, env.Client, env.Namespace, site.Selector, cond)
	return err
}

func uids(pods []corev1.Pod) []types.UID {
	out := make([]types.UID, len(pods))
	for i := range pods {
		out[i] = pods[i].UID
	}
	return out
}

func hasUID(ids []types.UID) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return slices.Contains(ids, p.UID) }
}
