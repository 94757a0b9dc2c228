package chaosmesh

import (
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
)

// clockRealtime is Chaos Mesh's default clock: wall-clock time, which is
// what certificates, tokens and schedules read. Monotonic clocks are left
// alone so that timeouts keep working.
const clockRealtime = "CLOCK_REALTIME"

// TimeShift builds a TimeChaos that shifts the wall clock of the first
// container of the target pods by offset (negative is in the past), for d.
func TimeShift(m Meta, t Target, offset, d time.Duration) (*v1alpha1.TimeChaos, error) {
	const fault = "time-shift"
	if err := checkMeta(fault, m); err != nil {
		return nil, err
	}
	if err := checkTarget(fault, "target", t, m.Namespace); err != nil {
		return nil, err
	}
	if err := checkDuration(fault, "duration", d); err != nil {
		return nil, err
	}
	if offset == 0 {
		return nil, &FieldError{Fault: fault, Field: "offset", Reason: "must not be zero"}
	}
	return validated(fault, &v1alpha1.TimeChaos{
		TypeMeta:   typeMeta(v1alpha1.KindTimeChaos),
		ObjectMeta: objectMeta(m),
		Spec: v1alpha1.TimeChaosSpec{
			ContainerSelector: v1alpha1.ContainerSelector{PodSelector: podSelector(t)},
			TimeOffset:        formatDuration(offset),
			ClockIds:          []string{clockRealtime},
			Duration:          chaosDuration(d),
		},
	})
}
