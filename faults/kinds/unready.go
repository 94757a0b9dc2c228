package kinds

import (
	"context"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/native"
)

// Unready makes the target's pods fail readiness through the app's admin
// knob; onset is every target pod seen not Ready.
const Unready = "unready"

func init() {
	faults.Register(faults.Kind{
		Name:          Unready,
		Backends:      []string{Native},
		IfHarnessDies: map[string]string{Native: ifDiesNamespaced},
		Fields:        map[string][]faults.Field{Native: {faults.FieldTarget, faults.FieldDuration}},
		Unavailable:   unavailable(""),
		Build: func(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
			return native.Unready(env.Client, env.Namespace, env.Site(spec.Target).Selector)
		},
	})
}
