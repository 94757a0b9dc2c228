package kinds

import (
	"context"
	"errors"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/native"
)

// ConfigDrift merges a drift into the app's ConfigMap, which every pod
// reads at its next start; onset is the drift confirmed in the API. It
// takes no target: the ConfigMap is shared, and which pods restart onto it
// is up to another fault (a pod-kill) or the machinery.
const ConfigDrift = "config-drift"

func init() {
	faults.Register(faults.Kind{
		Name:          ConfigDrift,
		Backends:      []string{Native},
		IfHarnessDies: map[string]string{Native: ifDiesNamespaced},
		Fields:        map[string][]faults.Field{Native: {faults.FieldConfig, faults.FieldDuration}},
		Require: func(s faults.Spec) error {
			if len(s.Config) == 0 {
				return errors.New("config: the drift is empty")
			}
			return nil
		},
		Unavailable: unavailable(""),
		Build: func(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
			return native.ConfigDrift(env.Client, env.Namespace, env.ConfigMap, spec.Config)
		},
	})
}
