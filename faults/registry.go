package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/registry"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Host is what the suite knows about the cluster's fault backends: what the
// nodes can run, how to reach a node, and the Chaos Mesh client (nil when
// Chaos Mesh is not installed, with the reason).
type Host struct {
	Capabilities   Capabilities
	NodeExec       Exec
	Chaos          client.Client
	ChaosMissing   string
	ToxiproxyImage string
	// Nodes pauses and stops node containers (nil on existing clusters).
	Nodes NodeControl
}

// NodeControl is what a node fault needs from the cluster provider:
// cluster.Kind implements it with Docker for kind node containers.
type NodeControl interface {
	NodeAction(ctx context.Context, action, node string) error
	NodeState(ctx context.Context, node string) (running, paused bool, err error)
	// ScheduleNodeAction arms a timer, outside the harness process, that
	// runs action on node after the delay; marker names it for
	// CancelScheduled.
	ScheduleNodeAction(ctx context.Context, marker string, after time.Duration, action, node string) error
	// CancelScheduled stops the timers whose marker starts with marker and
	// says how many it stopped.
	CancelScheduled(ctx context.Context, marker string) (int, error)
}

// Site is where one target's pods run, as the machinery deployed them.
type Site struct {
	// Selector matches the target's pods and Labels is the same as a map.
	Selector string
	Labels   map[string]string
	// Deployment runs the target's pods alone, or is "" when the target
	// shares its Deployment.
	Deployment string
}

// Env is what a kind needs to build a fault for one drill.
type Env struct {
	Host
	Client    kubernetes.Interface
	Namespace string
	// Name is unique to the drill, for the names of objects a fault creates.
	Name string
	// Labels go on every object a fault creates.
	Labels map[string]string
	// Site says where a target's pods run.
	Site func(Target) Site
	// ConfigMap is the app configuration every pod reads at start.
	ConfigMap string
}

// Effect is what users must see once a fault is active, on the data plane.
type Effect struct {
	// Describe says what was seen, for the timeline.
	Describe string
	// Seen holds for a user request that shows the fault.
	Seen func(failed bool, latency time.Duration) bool
}

// PodHook adjusts pod templates before anything is deployed, for a fault
// that needs something in the pod from the start (a proxy sidecar).
type PodHook struct {
	// TargetPort is the named port user traffic must go to.
	TargetPort string
	// Apply changes the template of pods the fault targets (hit) or not.
	Apply func(hit bool, tmpl *corev1.PodTemplateSpec) error
}

// Kind is one fault kind, registered once in its own file.
type Kind struct {
	// Name is what scenarios ask for, e.g. "pod-kill".
	Name string
	// Backends the kind supports; the first is the default.
	Backends []string
	// Fallback is used, when a spec names no backend, where the default
	// cannot run here.
	Fallback string
	// Fields lists, per backend, the optional Spec fields it honours; a
	// spec that sets any other is refused.
	Fields map[string][]Field
	// Require refuses a spec missing what the kind needs (may be nil).
	Require func(Spec) error
	// NeedsOwnDeployment says the fault reconfigures the target's own
	// Deployment, so the target must not share it with the other version.
	NeedsOwnDeployment bool
	// Unavailable says why a backend cannot run on this host, or "".
	Unavailable func(h Host, backend string) string
	// Build makes the fault; its Inject confirms onset through the API or
	// on the data plane.
	Build func(ctx context.Context, env Env, spec Spec, backend string) (Fault, error)
	// Pods, when set, is the pod template change the fault needs.
	Pods func(h Host, spec Spec, backend string) *PodHook
	// Effect, when set, is what users must see for onset to count.
	Effect func(spec Spec) *Effect
	// IfHarnessDies says, per backend, what ends the fault should firedrill
	// die mid-drill: a timer of its own, Chaos Mesh's controller, or only
	// firedrill cleanup. Plans print it.
	IfHarnessDies map[string]string
}

var kinds = registry.Registry[Kind]{What: "fault kind"}

// Register adds a fault kind. It panics on a duplicate or incomplete kind,
// a programming error found at init.
func Register(k Kind) {
	if k.Name == "" || len(k.Backends) == 0 || k.Build == nil || k.Unavailable == nil {
		panic("faults: Register needs a name, backends, Build and Unavailable")
	}
	for _, b := range k.Backends {
		if k.IfHarnessDies[b] == "" {
			panic("faults: kind " + k.Name + " does not say what ends its " + b + " fault if the harness dies")
		}
	}
	kinds.Add(k.Name, k)
}

// Lookup returns the kind registered under name.
func Lookup(name string) (Kind, error) { return kinds.Get(name) }

// Kinds lists the registered kind names, sorted.
func Kinds() []string { return kinds.Names() }

// Check validates a spec against its kind before anything is created:
// the kind and backend exist and fit, every field set is honoured, and the
// target may be reconfigured where the kind needs that (separate says each
// version runs in a Deployment of its own). Errors are one line naming the
// field.
func Check(s Spec, separate bool) error {
	k, err := Lookup(s.Kind)
	if err != nil {
		return err
	}
	if s.Backend != "" && !slices.Contains(k.Backends, s.Backend) {
		return fmt.Errorf("fault %s: backend %q: want %s", s.Kind, s.Backend, strings.Join(k.Backends, " or "))
	}
	if err := s.Start.Validate(); err != nil {
		return fmt.Errorf("fault %s: %w", s.Kind, err)
	}
	if s.Duration < 0 || s.Latency < 0 {
		return fmt.Errorf("fault %s: durations must not be negative", s.Kind)
	}
	if err := k.checkFields(s); err != nil {
		return err
	}
	if k.NeedsOwnDeployment && !separate {
		return fmt.Errorf("fault %s: target: the machinery runs both versions in one Deployment, which this fault would reconfigure", s.Kind)
	}
	if k.Require != nil {
		if err := k.Require(s); err != nil {
			return fmt.Errorf("fault %s: %w", s.Kind, err)
		}
	}
	return nil
}

func (k Kind) checkFields(s Spec) error {
	backend := k.backendOf(s)
	honoured := k.Fields[backend]
	for _, f := range s.set() {
		if !slices.Contains(honoured, f) {
			return fmt.Errorf("fault %s: %s: the %s backend ignores it", s.Kind, f, backend)
		}
	}
	if slices.Contains(honoured, FieldTarget) {
		if err := s.Target.Validate(); err != nil {
			return fmt.Errorf("fault %s: %w", s.Kind, err)
		}
	}
	return nil
}

func (k Kind) backendOf(s Spec) string {
	if s.Backend != "" {
		return s.Backend
	}
	return k.Backends[0]
}

// Resolve picks the backend a spec runs on here, or says why it cannot run.
func Resolve(h Host, s Spec) (backend, skip string, err error) {
	k, err := Lookup(s.Kind)
	if err != nil {
		return "", "", err
	}
	backend = k.backendOf(s)
	skip = k.Unavailable(h, backend)
	if skip != "" && s.Backend == "" && k.Fallback != "" && k.Unavailable(h, k.Fallback) == "" {
		return k.Fallback, "", nil
	}
	return backend, skip, nil
}

// MayUse lists the backends a spec may run on: the one it names or its
// kind's first, and the kind's fallback when it names none. A suite uses it
// to install only the backends its selected drills need.
func MayUse(s Spec) []string {
	k, err := Lookup(s.Kind)
	if err != nil {
		return nil
	}
	out := []string{k.backendOf(s)}
	if s.Backend == "" && k.Fallback != "" {
		out = append(out, k.Fallback)
	}
	return out
}
