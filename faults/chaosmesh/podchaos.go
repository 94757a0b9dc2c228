package chaosmesh

import (
	"fmt"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PodKill builds a PodChaos that deletes the target pods once, with no grace
// period, leaving their controller to replace them. It is one-shot in Chaos
// Mesh, so it has no duration.
func PodKill(m Meta, t Target) (*v1alpha1.PodChaos, error) {
	const fault = "pod-kill"
	if err := checkPodChaos(fault, m, t); err != nil {
		return nil, err
	}
	return validated(fault, podChaos(m, t, v1alpha1.PodKillAction, nil))
}

// PodFailure builds a PodChaos that makes the target pods unavailable for d
// by swapping their images for a pause image; Chaos Mesh restores them when d
// ends, which it requires to be set.
func PodFailure(m Meta, t Target, d time.Duration) (*v1alpha1.PodChaos, error) {
	const fault = "pod-failure"
	if err := checkPodChaos(fault, m, t); err != nil {
		return nil, err
	}
	if err := checkDuration(fault, "duration", d); err != nil {
		return nil, err
	}
	obj := podChaos(m, t, v1alpha1.PodFailureAction, nil)
	obj.Spec.Duration = chaosDuration(d)
	return validated(fault, obj)
}

// ContainerKill builds a PodChaos that kills the named containers of the
// target pods once, leaving the kubelet to restart them. Chaos Mesh requires
// at least one container name for this action.
func ContainerKill(m Meta, t Target, containers ...string) (*v1alpha1.PodChaos, error) {
	const fault = "container-kill"
	if err := checkPodChaos(fault, m, t); err != nil {
		return nil, err
	}
	if len(containers) == 0 {
		return nil, &FieldError{Fault: fault, Field: "containers", Reason: "must name at least one container"}
	}
	for i, c := range containers {
		if errs := validation.IsDNS1123Label(c); len(errs) > 0 {
			return nil, &FieldError{Fault: fault, Field: fmt.Sprintf("containers[%d]", i), Reason: fmt.Sprintf("%q: %s", c, errs[0])}
		}
	}
	return validated(fault, podChaos(m, t, v1alpha1.ContainerKillAction, containers))
}

func checkPodChaos(fault string, m Meta, t Target) error {
	if err := checkMeta(fault, m); err != nil {
		return err
	}
	return checkTarget(fault, "target", t, m.Namespace)
}

func podChaos(m Meta, t Target, action v1alpha1.PodChaosAction, containers []string) *v1alpha1.PodChaos {
	return &v1alpha1.PodChaos{
		TypeMeta:   typeMeta(v1alpha1.KindPodChaos),
		ObjectMeta: objectMeta(m),
		Spec: v1alpha1.PodChaosSpec{
			ContainerSelector: v1alpha1.ContainerSelector{
				PodSelector:    podSelector(t),
				ContainerNames: append([]string(nil), containers...),
			},
			Action: action,
		},
	}
}
