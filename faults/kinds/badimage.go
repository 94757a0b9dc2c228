package kinds

import (
	"context"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/native"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// BadImage moves the target's Deployment to an image that cannot be
// pulled; onset is a target pod seen failing to pull it.
const BadImage = "bad-image"

func init() {
	faults.Register(faults.Kind{
		Name:               BadImage,
		Backends:           []string{Native},
		IfHarnessDies:      map[string]string{Native: ifDiesNamespaced},
		Fields:             map[string][]faults.Field{Native: {faults.FieldTarget, faults.FieldDuration}},
		NeedsOwnDeployment: true,
		Unavailable:        unavailable(""),
		Build: func(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
			return native.BadImage(env.Client, env.Namespace, env.Site(spec.Target).Deployment, appcontract.BadImage)
		},
	})
}
