package drills

import (
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/faults"
)

// Fault kinds a scenario can inject during the canary.
const (
	FaultPodKill          = "pod-kill"
	FaultNetworkDelay     = "network-delay"
	FaultNetworkPartition = "network-partition"
	FaultBadImage         = "bad-image"
	FaultConfigDrift      = "config-drift"
	FaultCrashLoop        = "crashloop"
	FaultUnready          = "unready"
	FaultNodePause        = "node-pause"
	FaultPodFailure       = "pod-failure"
	FaultContainerKill    = "container-kill"
	FaultTimeShift        = "time-shift"
)

// Fault backends.
const (
	BackendChaosMesh = "chaosmesh"
	BackendNative    = "native"
	BackendToxiproxy = "toxiproxy"
)

// defaultBackends picks, per fault kind, the backend used when a scenario
// names none.
var defaultBackends = map[string]string{
	FaultPodKill:          BackendChaosMesh,
	FaultNetworkDelay:     BackendChaosMesh,
	FaultNetworkPartition: BackendNative,
	FaultBadImage:         BackendNative,
	FaultConfigDrift:      BackendNative,
	FaultCrashLoop:        BackendNative,
	FaultUnready:          BackendNative,
	FaultNodePause:        BackendNative,
	FaultPodFailure:       BackendChaosMesh,
	FaultContainerKill:    BackendChaosMesh,
	FaultTimeShift:        BackendChaosMesh,
}

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

// FaultSpec is a fault injected during the canary: its kind, backend,
// target, start and duration.
type FaultSpec struct {
	Kind string
	// Backend is BackendChaosMesh, BackendNative or BackendToxiproxy; empty
	// takes the kind's default. A Chaos Mesh network delay falls back to
	// Toxiproxy where the kernel cannot run NetworkChaos.
	Backend string
	Target  faults.Target
	Start   Start
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

// Validate checks one fault spec with a one-line error naming the field.
func (f FaultSpec) Validate() error {
	if _, ok := defaultBackends[f.Kind]; !ok {
		return fmt.Errorf("fault kind %q: want one of pod-kill, network-delay, network-partition, bad-image, config-drift, crashloop, unready, node-pause, pod-failure, container-kill, time-shift", f.Kind)
	}
	switch f.Backend {
	case "", BackendChaosMesh, BackendNative, BackendToxiproxy:
	default:
		return fmt.Errorf("fault %s: backend %q: want chaosmesh, native or toxiproxy", f.Kind, f.Backend)
	}
	if _, err := f.Target.Selector("app"); err != nil {
		return fmt.Errorf("fault %s: %w", f.Kind, err)
	}
	switch f.Start.When {
	case StartAtCanary, StartAfter:
	case StartOnCanaryTraffic:
		if f.Start.Percent < 1 || f.Start.Percent > 100 {
			return fmt.Errorf("fault %s: start at canary traffic %d%%: want 1..100", f.Kind, f.Start.Percent)
		}
	default:
		return fmt.Errorf("fault %s: start %q: want canary-start, canary-traffic or after", f.Kind, f.Start.When)
	}
	if f.Kind == FaultConfigDrift && len(f.Config) == 0 {
		return fmt.Errorf("fault %s: config to drift is empty", f.Kind)
	}
	if f.Kind == FaultTimeShift && (f.Offset == 0 || f.Duration <= 0) {
		return fmt.Errorf("fault %s: offset and duration must be set", f.Kind)
	}
	if f.Kind == FaultPodFailure && f.Duration <= 0 {
		return fmt.Errorf("fault %s: duration must be positive (Chaos Mesh ends the failure itself)", f.Kind)
	}
	if f.Kind == FaultNetworkDelay && f.Latency <= 0 {
		return fmt.Errorf("fault %s: latency must be positive", f.Kind)
	}
	if f.Duration < 0 || f.Start.After < 0 {
		return fmt.Errorf("fault %s: durations must not be negative", f.Kind)
	}
	return nil
}

// backend resolves the spec's backend.
func (f FaultSpec) backend() string {
	if f.Backend != "" {
		return f.Backend
	}
	return defaultBackends[f.Kind]
}
