package faults

import (
	"fmt"
	"time"
)

// StartWhen says when an injected fault starts.
type StartWhen string

const (
	// StartAtCanary injects as soon as the canary is started.
	StartAtCanary StartWhen = "canary-start"
	// StartOnCanaryTraffic injects once the canary answers at least
	// Percent% of the observer's requests over the SLO window.
	StartOnCanaryTraffic StartWhen = "canary-traffic"
	// StartAfter injects After past canary start.
	StartAfter StartWhen = "after"
)

// Start is when an injected fault starts.
type Start struct {
	When    StartWhen
	Percent int
	After   time.Duration
}

// Validate checks a start condition.
func (s Start) Validate() error {
	switch s.When {
	case StartAtCanary, StartAfter:
	case StartOnCanaryTraffic:
		if s.Percent < 1 || s.Percent > 100 {
			return fmt.Errorf("start at canary traffic %d%%: want 1..100", s.Percent)
		}
	default:
		return fmt.Errorf("start %q: want %s, %s or %s", s.When, StartAtCanary, StartOnCanaryTraffic, StartAfter)
	}
	if s.After < 0 {
		return fmt.Errorf("start after %s: must not be negative", s.After)
	}
	return nil
}

// Spec is a fault a scenario injects during the canary: its kind, backend,
// target, start and the fields its kind reads.
type Spec struct {
	Kind string
	// Backend names the implementation; empty takes the kind's default.
	Backend string
	// Target says whose pods the fault hits; kinds that act on something
	// shared (the app's ConfigMap) take none.
	Target Target
	Start  Start
	// Duration is how long the fault lasts; 0 keeps it until cleanup.
	Duration time.Duration
	// Latency is the delay of a network-delay fault.
	Latency time.Duration
	// Graceful lets a pod-kill delete pods with their grace period, so that
	// the app drains; otherwise pods are killed at once.
	Graceful bool
	// Offset is how far a time-shift fault moves the target's clock.
	Offset time.Duration
	// Config is the drift a config-drift fault merges into the app's
	// ConfigMap (which every pod reads with envFrom at start).
	Config map[string]string
}

// Field names an optional Spec field, so a kind can say which it honours.
type Field string

// The optional fields of a Spec.
const (
	FieldTarget   Field = "target"
	FieldDuration Field = "duration"
	FieldLatency  Field = "latency"
	FieldGraceful Field = "graceful"
	FieldOffset   Field = "offset"
	FieldConfig   Field = "config"
)

// set lists the optional fields a spec sets.
func (s Spec) set() []Field {
	var out []Field
	for _, f := range []struct {
		field Field
		set   bool
	}{
		{FieldTarget, s.Target != ""}, {FieldDuration, s.Duration != 0}, {FieldLatency, s.Latency != 0},
		{FieldGraceful, s.Graceful}, {FieldOffset, s.Offset != 0}, {FieldConfig, len(s.Config) > 0},
	} {
		if f.set {
			out = append(out, f.field)
		}
	}
	return out
}
