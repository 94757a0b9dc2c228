package kinds

import (
	"context"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/native"
)

// CrashLoop reconfigures the target's Deployment to crash on start; onset
// is a target container seen crashing.
const CrashLoop = "crashloop"

func init() {
	faults.Register(faults.Kind{
		Name:               CrashLoop,
		Backends:           []string{Native},
		IfHarnessDies:      map[string]string{Native: ifDiesNamespaced},
		Fields:             map[string][]faults.Field{Native: {faults.FieldTarget, faults.FieldDuration}},
		NeedsOwnDeployment: true,
		Unavailable:        unavailable(""),
		Build: func(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
			return native.CrashLoopConfig(env.Client, env.Namespace, env.Site(spec.Target).Deployment)
		},
	})
}
