package kinds

import (
	"context"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/faults/native"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// NetworkPartition cuts the target off from user traffic; onset is a user
// request seen failing. Natively it is an iptables DROP of the app port in
// the target pods' network namespaces, through the node; through Chaos Mesh
// it is a NetworkChaos dropping every packet the target sends.
const NetworkPartition = "network-partition"

func init() {
	fields := []faults.Field{faults.FieldTarget, faults.FieldDuration}
	faults.Register(faults.Kind{
		Name:          NetworkPartition,
		Backends:      []string{Native, ChaosMesh},
		IfHarnessDies: map[string]string{Native: ifDiesNodeTimer, ChaosMesh: ifDiesChaos},
		Fields:        map[string][]faults.Field{Native: fields, ChaosMesh: fields},
		Unavailable: func(h faults.Host, backend string) string {
			if backend == Native && h.NodeExec == nil {
				return "the native partition needs to run commands on the nodes (kind only)"
			}
			return unavailable(faults.KindNetworkChaos)(h, backend)
		},
		Build:  buildPartition,
		Effect: failedRequest,
	})
}

func buildPartition(_ context.Context, env faults.Env, spec faults.Spec, backend string) (faults.Fault, error) {
	if backend == Native {
		return native.IptablesPartition(env.Client, env.NodeExec, env.Namespace, env.Site(spec.Target).Selector, appcontract.UserPort)
	}
	obj, err := chaosmesh.NetworkLoss(chaosMeta(env, NetworkPartition), chaosTarget(env, spec.Target), 100, spec.Duration)
	if err != nil {
		return nil, err
	}
	return chaos(env, NetworkPartition, obj, nil), nil
}
