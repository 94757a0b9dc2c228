package kinds

import (
	"context"
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// PodFailure swaps the target's containers for a pause image for a while;
// onset is every target pod not Ready.
const PodFailure = "pod-failure"

func init() {
	faults.Register(faults.Kind{
		Name:          PodFailure,
		Backends:      []string{ChaosMesh},
		IfHarnessDies: map[string]string{ChaosMesh: ifDiesChaos},
		Fields:        map[string][]faults.Field{ChaosMesh: {faults.FieldTarget, faults.FieldDuration}},
		Require: func(s faults.Spec) error {
			if s.Duration <= 0 {
				return errors.New("duration: must be positive (Chaos Mesh ends the failure itself)")
			}
			return nil
		},
		Unavailable: unavailable(crdPodChaos),
		Build:       buildPodFailure,
	})
}

func buildPodFailure(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
	obj, err := chaosmesh.PodFailure(chaosMeta(env, PodFailure), chaosTarget(env, spec.Target), spec.Duration)
	if err != nil {
		return nil, err
	}
	site := env.Site(spec.Target)
	unready := func(ctx context.Context) error {
		return waitPods(ctx, env, site, func(pods []*corev1.Pod) (bool, error) {
			return len(pods) > 0 && !slices.ContainsFunc(pods, kube.PodReady), nil
		})
	}
	return chaos(env, PodFailure, obj, unready), nil
}
