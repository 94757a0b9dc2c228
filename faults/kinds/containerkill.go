package kinds

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// ContainerKill kills the app container of the target's pods; onset is one
// of them seen restarted.
const ContainerKill = "container-kill"

func init() {
	faults.Register(faults.Kind{
		Name:          ContainerKill,
		Backends:      []string{ChaosMesh},
		IfHarnessDies: map[string]string{ChaosMesh: ifDiesOneShot},
		Fields:        map[string][]faults.Field{ChaosMesh: {faults.FieldTarget}},
		Unavailable:   unavailable(crdPodChaos),
		Build:         buildContainerKill,
	})
}

func buildContainerKill(ctx context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
	obj, err := chaosmesh.ContainerKill(chaosMeta(env, ContainerKill), chaosTarget(env, spec.Target), appcontract.Container)
	if err != nil {
		return nil, err
	}
	site := env.Site(spec.Target)
	pods, err := snapshot(ctx, env, site)
	if err != nil {
		return nil, err
	}
	before := map[types.UID]int32{}
	for i := range pods {
		before[pods[i].UID] = restarts(&pods[i])
	}
	restarted := func(ctx context.Context) error {
		return waitPods(ctx, env, site, func(pods []*corev1.Pod) (bool, error) {
			return slices.ContainsFunc(pods, func(p *corev1.Pod) bool {
				n, seen := before[p.UID]
				return seen && restarts(p) > n
			}), nil
		})
	}
	return chaos(env, ContainerKill, obj, restarted), nil
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}
