package kinds

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/faults/toxiproxy"
)

// NetworkDelay delays the target's answers; onset is a user seeing an
// answer slower than half the latency. Chaos Mesh NetworkChaos needs netem
// in the node kernel; without it the Toxiproxy sidecar takes over.
const NetworkDelay = "network-delay"

func init() {
	fields := []faults.Field{faults.FieldTarget, faults.FieldLatency, faults.FieldDuration}
	faults.Register(faults.Kind{
		Name:          NetworkDelay,
		Backends:      []string{ChaosMesh, Toxiproxy},
		IfHarnessDies: map[string]string{ChaosMesh: ifDiesChaos, Toxiproxy: ifDiesNodeTimer},
		Fallback:      Toxiproxy,
		Fields:        map[string][]faults.Field{ChaosMesh: fields, Toxiproxy: fields},
		Require: func(s faults.Spec) error {
			if s.Latency <= 0 {
				return errors.New("latency: must be positive")
			}
			return nil
		},
		Unavailable: unavailable(faults.KindNetworkChaos),
		Build:       buildNetworkDelay,
		Pods:        toxiproxySidecar,
		Effect: func(s faults.Spec) *faults.Effect {
			slow := s.Latency / 2
			return &faults.Effect{
				Describe: fmt.Sprintf("an answer slower than %s seen", slow),
				Seen:     func(failed bool, latency time.Duration) bool { return !failed && latency >= slow },
			}
		},
	})
}

func buildNetworkDelay(_ context.Context, env faults.Env, spec faults.Spec, backend string) (faults.Fault, error) {
	if backend == Toxiproxy {
		return toxiproxy.Latency(env.Client, toxiproxy.Target{Namespace: env.Namespace, Selector: env.Site(spec.Target).Selector}, spec.Latency, 0)
	}
	obj, err := chaosmesh.NetworkDelay(chaosMeta(env, NetworkDelay), chaosTarget(env, spec.Target), spec.Latency, 0, 0, spec.Duration)
	if err != nil {
		return nil, err
	}
	return chaos(env, NetworkDelay, obj, nil), nil
}

// toxiproxySidecar puts the proxy sidecar on the target's pods and routes
// user traffic by the named port, so that pods with and without it sit
// behind the same Service.
func toxiproxySidecar(h faults.Host, _ faults.Spec, backend string) *faults.PodHook {
	if backend != Toxiproxy {
		return nil
	}
	return &faults.PodHook{
		TargetPort: toxiproxy.PortNameUser,
		Apply: func(hit bool, tmpl *corev1.PodTemplateSpec) error {
			if hit {
				return toxiproxy.WithSidecar(tmpl, h.ToxiproxyImage)
			}
			return toxiproxy.WithoutSidecar(tmpl)
		},
	}
}
