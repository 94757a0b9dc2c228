package chaosmesh

import (
	"fmt"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
)

// maxStressWorkers is the most workers stress-ng runs, and the StressChaos
// CRD's maximum.
const maxStressWorkers = 8192

// StressCPU builds a StressChaos that runs workers CPU stressors in the first
// container of the target pods, each loading one CPU to load percent, for d.
func StressCPU(m Meta, t Target, workers, load int, d time.Duration) (*v1alpha1.StressChaos, error) {
	const fault = "stress-cpu"
	if err := checkMeta(fault, m); err != nil {
		return nil, err
	}
	if err := checkTarget(fault, "target", t, m.Namespace); err != nil {
		return nil, err
	}
	if err := checkDuration(fault, "duration", d); err != nil {
		return nil, err
	}
	if workers < 1 || workers > maxStressWorkers {
		return nil, &FieldError{Fault: fault, Field: "workers", Reason: fmt.Sprintf("must be in 1..%d, got %d", maxStressWorkers, workers)}
	}
	if load < 1 || load > 100 {
		return nil, &FieldError{Fault: fault, Field: "load", Reason: fmt.Sprintf("must be a percentage in 1..100, got %d", load)}
	}
	return validated(fault, &v1alpha1.StressChaos{
		TypeMeta:   typeMeta(v1alpha1.KindStressChaos),
		ObjectMeta: objectMeta(m),
		Spec: v1alpha1.StressChaosSpec{
			ContainerSelector: v1alpha1.ContainerSelector{PodSelector: podSelector(t)},
			Stressors: &v1alpha1.Stressors{CPUStressor: &v1alpha1.CPUStressor{
				Stressor: v1alpha1.Stressor{Workers: workers},
				Load:     &load,
			}},
			Duration: chaosDuration(d),
		},
	})
}
