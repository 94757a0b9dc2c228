package kinds

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/native"
)

// NodePause freezes the node that runs the first target pod (docker pause;
// on a single node, the whole cluster); onset is a user request failing.
const NodePause = "node-pause"

func init() {
	faults.Register(faults.Kind{
		Name:          NodePause,
		Backends:      []string{Native},
		IfHarnessDies: map[string]string{Native: ifDiesHostTimer},
		Fields:        map[string][]faults.Field{Native: {faults.FieldTarget, faults.FieldDuration}},
		Unavailable: func(h faults.Host, _ string) string {
			if h.Nodes == nil {
				return "node-pause needs control over node containers (kind only)"
			}
			return ""
		},
		Build:  buildNodePause,
		Effect: failedRequest,
	})
}

func buildNodePause(ctx context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
	selector := env.Site(spec.Target).Selector
	pods, err := env.Client.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			return native.NodePause(env.Nodes, p.Spec.NodeName)
		}
	}
	return nil, fmt.Errorf("no scheduled pod matches %s", selector)
}
