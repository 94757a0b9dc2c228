package kinds

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/faults/native"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// PodKill kills the target's pods; onset is every one of them gone.
const PodKill = "pod-kill"

func init() {
	faults.Register(faults.Kind{
		Name:          PodKill,
		Backends:      []string{ChaosMesh, Native},
		IfHarnessDies: map[string]string{ChaosMesh: ifDiesOneShot, Native: ifDiesOneShot},
		Fields: map[string][]faults.Field{
			ChaosMesh: {faults.FieldTarget, faults.FieldGraceful},
			Native:    {faults.FieldTarget},
		},
		Unavailable: unavailable(crdPodChaos),
		Build:       buildPodKill,
	})
}

func buildPodKill(ctx context.Context, env faults.Env, spec faults.Spec, backend string) (faults.Fault, error) {
	site := env.Site(spec.Target)
	if backend == Native {
		return native.DeletePods(env.Client, env.Namespace, site.Selector)
	}
	obj, err := chaosmesh.PodKill(chaosMeta(env, PodKill), chaosTarget(env, spec.Target))
	if err != nil {
		return nil, err
	}
	if spec.Graceful {
		obj.Spec.GracePeriod = int64(appcontract.DrainGrace.Seconds())
	}
	before, err := snapshot(ctx, env, site)
	if err != nil {
		return nil, err
	}
	gone := func(ctx context.Context) error {
		return waitPods(ctx, env, site, func(pods []*corev1.Pod) (bool, error) {
			return !slices.ContainsFunc(pods, hasUID(uids(before))), nil
		})
	}
	return chaos(env, PodKill, obj, gone), nil
}
