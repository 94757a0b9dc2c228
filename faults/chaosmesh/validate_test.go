package chaosmesh

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestInputValidation(t *testing.T) {
	withMeta := func(f func(*Meta)) Meta { m := meta("f"); f(&m); return m }
	withTarget := func(f func(*Target)) Target { tg := canary(); f(&tg); return tg }
	mode := func(m v1alpha1.SelectorMode, v string) Target {
		return withTarget(func(tg *Target) { tg.Mode, tg.Value = m, v })
	}
	other := stable()
	cases := []struct {
		name  string
		fault string
		field string
		err   func() error
	}{
		{"empty name", "pod-kill", "meta.name", func() error {
			_, err := PodKill(withMeta(func(m *Meta) { m.Name = "" }), canary())
			return err
		}},
		{"invalid name", "pod-kill", "meta.name", func() error {
			_, err := PodKill(withMeta(func(m *Meta) { m.Name = "Pod_Kill" }), canary())
			return err
		}},
		{"invalid meta label key", "pod-kill", "meta.labels", func() error {
			_, err := PodKill(withMeta(func(m *Meta) { m.Labels = map[string]string{"bad key": "x"} }), canary())
			return err
		}},
		{"invalid target label key", "pod-kill", "target.labels", func() error {
			_, err := PodKill(meta("f"), withTarget(func(tg *Target) { tg.Labels["-bad"] = "x" }))
			return err
		}},
		{"invalid target label value", "pod-kill", "target.labels", func() error {
			_, err := PodKill(meta("f"), withTarget(func(tg *Target) { tg.Labels["version"] = "canary stable" }))
			return err
		}},
		{"unknown mode", "pod-kill", "target.mode", func() error {
			_, err := PodKill(meta("f"), mode("some", ""))
			return err
		}},
		{"value with all mode", "pod-kill", "target.value", func() error {
			_, err := PodKill(meta("f"), mode(v1alpha1.AllMode, "50"))
			return err
		}},
		{"value with default mode", "pod-kill", "target.value", func() error {
			_, err := PodKill(meta("f"), mode("", "1"))
			return err
		}},
		{"fixed mode without a count", "pod-kill", "target.value", func() error {
			_, err := PodKill(meta("f"), mode(v1alpha1.FixedMode, ""))
			return err
		}},
		{"fixed mode with zero pods", "pod-kill", "target.value", func() error {
			_, err := PodKill(meta("f"), mode(v1alpha1.FixedMode, "0"))
			return err
		}},
		{"fixed-percent over 100", "pod-kill", "target.value", func() error {
			_, err := PodKill(meta("f"), mode(v1alpha1.FixedPercentMode, "101"))
			return err
		}},
		{"random-max-percent not a number", "pod-kill", "target.value", func() error {
			_, err := PodKill(meta("f"), mode(v1alpha1.RandomMaxPercentMode, "half"))
			return err
		}},
		{"other side mode", "network-partition", "other.value", func() error {
			o := other
			o.Mode, o.Value = v1alpha1.FixedMode, "-1"
			_, err := NetworkPartition(meta("f"), canary(), o, v1alpha1.Both, time.Minute)
			return err
		}},
		{"pod-failure zero duration", "pod-failure", "duration", func() error {
			_, err := PodFailure(meta("f"), canary(), 0)
			return err
		}},
		{"pod-failure negative duration", "pod-failure", "duration", func() error {
			_, err := PodFailure(meta("f"), canary(), -time.Second)
			return err
		}},
		{"container-kill without containers", "container-kill", "containers", func() error {
			_, err := ContainerKill(meta("f"), canary())
			return err
		}},
		{"container-kill empty container name", "container-kill", "containers[1]", func() error {
			_, err := ContainerKill(meta("f"), canary(), "app", "")
			return err
		}},
		{"container-kill invalid container name", "container-kill", "containers[0]", func() error {
			_, err := ContainerKill(meta("f"), canary(), "App")
			return err
		}},
		{"delay zero latency", "network-delay", "latency", func() error {
			_, err := NetworkDelay(meta("f"), canary(), 0, 0, 0, time.Minute)
			return err
		}},
		{"delay negative jitter", "network-delay", "jitter", func() error {
			_, err := NetworkDelay(meta("f"), canary(), time.Second, -time.Millisecond, 0, time.Minute)
			return err
		}},
		{"delay correlation over 100", "network-delay", "correlation", func() error {
			_, err := NetworkDelay(meta("f"), canary(), time.Second, 0, 100.5, time.Minute)
			return err
		}},
		{"delay negative correlation", "network-delay", "correlation", func() error {
			_, err := NetworkDelay(meta("f"), canary(), time.Second, 0, -1, time.Minute)
			return err
		}},
		{"delay NaN correlation", "network-delay", "correlation", func() error {
			_, err := NetworkDelay(meta("f"), canary(), time.Second, 0, math.NaN(), time.Minute)
			return err
		}},
		{"delay zero duration", "network-delay", "duration", func() error {
			_, err := NetworkDelay(meta("f"), canary(), time.Second, 0, 0, 0)
			return err
		}},
		{"loss zero percent", "network-loss", "percent", func() error {
			_, err := NetworkLoss(meta("f"), canary(), 0, time.Minute)
			return err
		}},
		{"loss negative percent", "network-loss", "percent", func() error {
			_, err := NetworkLoss(meta("f"), canary(), -5, time.Minute)
			return err
		}},
		{"loss over 100 percent", "network-loss", "percent", func() error {
			_, err := NetworkLoss(meta("f"), canary(), 100.1, time.Minute)
			return err
		}},
		{"loss NaN percent", "network-loss", "percent", func() error {
			_, err := NetworkLoss(meta("f"), canary(), math.NaN(), time.Minute)
			return err
		}},
		{"loss infinite percent", "network-loss", "percent", func() error {
			_, err := NetworkLoss(meta("f"), canary(), math.Inf(1), time.Minute)
			return err
		}},
		{"loss negative duration", "network-loss", "duration", func() error {
			_, err := NetworkLoss(meta("f"), canary(), 10, -time.Minute)
			return err
		}},
		{"partition empty direction", "network-partition", "direction", func() error {
			_, err := NetworkPartition(meta("f"), canary(), other, "", time.Minute)
			return err
		}},
		{"partition unknown direction", "network-partition", "direction", func() error {
			_, err := NetworkPartition(meta("f"), canary(), other, "sideways", time.Minute)
			return err
		}},
		{"partition zero duration", "network-partition", "duration", func() error {
			_, err := NetworkPartition(meta("f"), canary(), other, v1alpha1.Both, 0)
			return err
		}},
		{"bandwidth empty rate", "network-bandwidth", "rate", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "", 1, 1, time.Minute)
			return err
		}},
		{"bandwidth rate without unit", "network-bandwidth", "rate", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "1000", 1, 1, time.Minute)
			return err
		}},
		{"bandwidth fractional rate", "network-bandwidth", "rate", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "1.5mbps", 1, 1, time.Minute)
			return err
		}},
		{"bandwidth zero rate", "network-bandwidth", "rate", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "0kbit", 1, 1, time.Minute)
			return err
		}},
		{"bandwidth zero limit", "network-bandwidth", "limit", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "1mbps", 0, 1, time.Minute)
			return err
		}},
		{"bandwidth zero buffer", "network-bandwidth", "buffer", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "1mbps", 1, 0, time.Minute)
			return err
		}},
		{"bandwidth zero duration", "network-bandwidth", "duration", func() error {
			_, err := NetworkBandwidth(meta("f"), canary(), "1mbps", 1, 1, 0)
			return err
		}},
		{"stress zero workers", "stress-cpu", "workers", func() error {
			_, err := StressCPU(meta("f"), canary(), 0, 50, time.Minute)
			return err
		}},
		{"stress too many workers", "stress-cpu", "workers", func() error {
			_, err := StressCPU(meta("f"), canary(), 8193, 50, time.Minute)
			return err
		}},
		{"stress zero load", "stress-cpu", "load", func() error {
			_, err := StressCPU(meta("f"), canary(), 1, 0, time.Minute)
			return err
		}},
		{"stress load over 100", "stress-cpu", "load", func() error {
			_, err := StressCPU(meta("f"), canary(), 1, 101, time.Minute)
			return err
		}},
		{"stress zero duration", "stress-cpu", "duration", func() error {
			_, err := StressCPU(meta("f"), canary(), 1, 50, 0)
			return err
		}},
		{"time zero offset", "time-shift", "offset", func() error {
			_, err := TimeShift(meta("f"), canary(), 0, time.Minute)
			return err
		}},
		{"time zero duration", "time-shift", "duration", func() error {
			_, err := TimeShift(meta("f"), canary(), time.Minute, 0)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertFieldError(t, c.err(), c.fault, c.field)
		})
	}
}

// TestSelectorModes checks that each mode reaches the object with its value.
func TestSelectorModes(t *testing.T) {
	for _, c := range []struct {
		mode  v1alpha1.SelectorMode
		value string
		want  v1alpha1.SelectorMode
	}{
		{"", "", v1alpha1.AllMode},
		{v1alpha1.AllMode, "", v1alpha1.AllMode},
		{v1alpha1.OneMode, "", v1alpha1.OneMode},
		{v1alpha1.FixedMode, "2", v1alpha1.FixedMode},
		{v1alpha1.FixedPercentMode, "50", v1alpha1.FixedPercentMode},
		{v1alpha1.RandomMaxPercentMode, "100", v1alpha1.RandomMaxPercentMode},
	} {
		tg := canary()
		tg.Mode, tg.Value = c.mode, c.value
		obj, err := PodKill(meta("pod-kill"), tg)
		if err != nil {
			t.Errorf("mode %q value %q: %v", c.mode, c.value, err)
			continue
		}
		if obj.Spec.Mode != c.want || obj.Spec.Value != c.value {
			t.Errorf("mode %q value %q: got mode %q value %q", c.mode, c.value, obj.Spec.Mode, obj.Spec.Value)
		}
	}
}

// TestBoundaryInputsAccepted pins the inclusive ends of each range.
func TestBoundaryInputsAccepted(t *testing.T) {
	for name, err := range map[string]error{
		"loss 100 percent":      second(NetworkLoss(meta("f"), canary(), 100, time.Minute)),
		"loss 0.1 percent":      second(NetworkLoss(meta("f"), canary(), 0.1, time.Minute)),
		"delay correlation 100": second(NetworkDelay(meta("f"), canary(), time.Millisecond, time.Millisecond, 100, time.Minute)),
		"stress 8192 workers":   second(StressCPU(meta("f"), canary(), 8192, 100, time.Minute)),
		"positive time offset":  second(TimeShift(meta("f"), canary(), 90*time.Second, time.Minute)),
		"bandwidth 1 bit":       second(NetworkBandwidth(meta("f"), canary(), "1bit", 1, 1, time.Minute)),
		"several containers":    second(ContainerKill(meta("f"), canary(), "app", "sidecar")),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0s",
		90 * time.Second:        "90s",
		1500 * time.Millisecond: "1500ms",
		10 * time.Minute:        "10m",
		-10 * time.Minute:       "-10m",
		2 * time.Hour:           "2h",
		90 * time.Minute:        "90m",
		time.Microsecond:        "1us",
		1001 * time.Nanosecond:  "1001ns",
		math.MinInt64:           "-9223372036854775808ns",
	} {
		got := formatDuration(d)
		if got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
			continue
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("time.ParseDuration(%q) = %v, %v; want %v", got, back, err, d)
		}
	}
}

// TestCRDSchemaCheckIsNotVacuous proves that the schema check used on the
// golden objects refuses a malformed value and a field the CRD does not know.
func TestCRDSchemaCheckIsNotVacuous(t *testing.T) {
	sch := compileCRDSchema(t, v1alpha1.KindNetworkChaos)
	obj, err := NetworkDelay(meta("network-delay"), canary(), time.Second, 0, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	obj.Spec.Delay.Latency = (90 * time.Second).String() // "1m30s": not one number and one unit
	if err := sch.Validate(instance(t, obj)); err == nil {
		t.Error("schema accepted latency 1m30s")
	}
	obj.Spec.Delay.Latency = "90s"
	inst := instance(t, obj)
	inst["spec"].(map[string]any)["unknownField"] = "pruned"
	if err := sch.Validate(inst); err == nil || !strings.Contains(err.Error(), "unknownField") {
		t.Errorf("schema accepted an unknown field: %v", err)
	}
}

func instance(t *testing.T, obj any) map[string]any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	inst := doc.(map[string]any)
	delete(inst, "status")
	return inst
}
