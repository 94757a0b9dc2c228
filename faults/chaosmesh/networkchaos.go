package chaosmesh

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NetworkDelay builds a NetworkChaos that delays every packet the target
// pods send by latency, varied by up to jitter with the given correlation
// (a percentage, 0 for independent samples), for d.
func NetworkDelay(m Meta, t Target, latency, jitter time.Duration, correlation float64, d time.Duration) (*v1alpha1.NetworkChaos, error) {
	const fault = "network-delay"
	if err := checkNetworkChaos(fault, m, t, d); err != nil {
		return nil, err
	}
	if err := checkDuration(fault, "latency", latency); err != nil {
		return nil, err
	}
	if jitter < 0 {
		return nil, &FieldError{Fault: fault, Field: "jitter", Reason: fmt.Sprintf("must not be negative, got %s", jitter)}
	}
	if err := checkPercent(fault, "correlation", correlation, true); err != nil {
		return nil, err
	}
	delay := &v1alpha1.DelaySpec{
		Latency:     formatDuration(latency),
		Jitter:      v1alpha1.DefaultJitter,
		Correlation: formatPercent(correlation),
	}
	if jitter > 0 {
		delay.Jitter = formatDuration(jitter)
	}
	obj := networkChaos(m, t, v1alpha1.DelayAction, v1alpha1.To, d)
	obj.Spec.Delay = delay
	return validated(fault, obj)
}

// NetworkLoss builds a NetworkChaos that drops percent of the packets the
// target pods send, for d.
func NetworkLoss(m Meta, t Target, percent float64, d time.Duration) (*v1alpha1.NetworkChaos, error) {
	const fault = "network-loss"
	if err := checkNetworkChaos(fault, m, t, d); err != nil {
		return nil, err
	}
	if err := checkPercent(fault, "percent", percent, false); err != nil {
		return nil, err
	}
	obj := networkChaos(m, t, v1alpha1.LossAction, v1alpha1.To, d)
	obj.Spec.Loss = &v1alpha1.LossSpec{Loss: formatPercent(percent), Correlation: v1alpha1.DefaultCorrelation}
	return validated(fault, obj)
}

// NetworkPartition builds a NetworkChaos that cuts traffic between the target
// pods and the other pods (for example stable from canary) in direction dir,
// for d. Both sides must be in the drill namespace.
func NetworkPartition(m Meta, t Target, other Target, dir v1alpha1.Direction, d time.Duration) (*v1alpha1.NetworkChaos, error) {
	const fault = "network-partition"
	if err := checkNetworkChaos(fault, m, t, d); err != nil {
		return nil, err
	}
	if err := checkTarget(fault, "other", other, m.Namespace); err != nil {
		return nil, err
	}
	switch dir {
	case v1alpha1.To, v1alpha1.From, v1alpha1.Both:
	default:
		return nil, &FieldError{Fault: fault, Field: "direction", Reason: fmt.Sprintf("must be to, from or both, got %q", dir)}
	}
	obj := networkChaos(m, t, v1alpha1.PartitionAction, dir, d)
	sel := podSelector(other)
	obj.Spec.Target = &sel
	return validated(fault, obj)
}

// NetworkBandwidth builds a NetworkChaos that shapes the traffic the target
// pods send with a token bucket filter, for d: rate is tc's rate with its
// unit ("1mbps", "512kbit"; bps means bytes per second), limit the bytes
// queued waiting for tokens, buffer the bucket size in bytes.
func NetworkBandwidth(m Meta, t Target, rate string, limit, buffer uint32, d time.Duration) (*v1alpha1.NetworkChaos, error) {
	const fault = "network-bandwidth"
	if err := checkNetworkChaos(fault, m, t, d); err != nil {
		return nil, err
	}
	if err := checkRate(fault, rate); err != nil {
		return nil, err
	}
	if limit == 0 {
		return nil, &FieldError{Fault: fault, Field: "limit", Reason: "must be at least 1 byte"}
	}
	if buffer == 0 {
		return nil, &FieldError{Fault: fault, Field: "buffer", Reason: "must be at least 1 byte"}
	}
	obj := networkChaos(m, t, v1alpha1.BandwidthAction, v1alpha1.To, d)
	obj.Spec.Bandwidth = &v1alpha1.BandwidthSpec{Rate: rate, Limit: limit, Buffer: buffer}
	return validated(fault, obj)
}

// checkRate applies Chaos Mesh's own rate check, then refuses a zero rate,
// which that check accepts but tc cannot install.
func checkRate(fault, rate string) error {
	r := v1alpha1.Rate(rate)
	if errs := r.Validate(nil, field.NewPath("rate")); len(errs) > 0 {
		return &FieldError{Fault: fault, Field: "rate", Reason: fmt.Sprintf("want a number and a unit among bit, kbit, mbit, gbit, tbit, bps, kbps, mbps, gbps, tbps, got %q", rate)}
	}
	digits := strings.TrimSpace(strings.TrimRight(strings.ToLower(strings.TrimSpace(rate)), "abcdefghijklmnopqrstuvwxyz"))
	if n, err := strconv.ParseUint(digits, 10, 64); err == nil && n == 0 {
		return &FieldError{Fault: fault, Field: "rate", Reason: fmt.Sprintf("must be positive, got %q", rate)}
	}
	return nil
}

func checkNetworkChaos(fault string, m Meta, t Target, d time.Duration) error {
	if err := checkMeta(fault, m); err != nil {
		return err
	}
	if err := checkTarget(fault, "target", t, m.Namespace); err != nil {
		return err
	}
	return checkDuration(fault, "duration", d)
}

// networkChaos sets the direction explicitly, although Chaos Mesh defaults
// it to "to", so that the stored object is the one built.
func networkChaos(m Meta, t Target, action v1alpha1.NetworkChaosAction, dir v1alpha1.Direction, d time.Duration) *v1alpha1.NetworkChaos {
	return &v1alpha1.NetworkChaos{
		TypeMeta:   typeMeta(v1alpha1.KindNetworkChaos),
		ObjectMeta: objectMeta(m),
		Spec: v1alpha1.NetworkChaosSpec{
			PodSelector: podSelector(t),
			Action:      action,
			Duration:    chaosDuration(d),
			Direction:   dir,
		},
	}
}
