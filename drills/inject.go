package drills

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/faults/native"
	"github.com/firedrill-dev/firedrill/faults/toxiproxy"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// FaultEnv is what injected faults need from the suite: the host's
// capabilities, a way to run commands on a node, and the Chaos Mesh client
// (nil when Chaos Mesh is not installed, with the reason).
type FaultEnv struct {
	Capabilities   faults.Capabilities
	NodeExec       faults.Exec
	Chaos          client.Client
	ChaosMissing   string
	ToxiproxyImage string
	// Nodes pauses and stops node containers (nil on existing clusters).
	Nodes native.NodeControl
}

// ErrSkipped marks a drill whose fault cannot run here; the reason is in
// the error and in the report.
var ErrSkipped = errors.New("fault skipped")

// plannedFault is a spec resolved to a backend, or to a skip reason.
type plannedFault struct {
	spec    FaultSpec
	backend string
	skip    string
	fault   faults.Fault
	record  reports.FaultRecord
}

// planFaults resolves every spec's backend against what this host can run,
// before anything is deployed: a Toxiproxy fault needs its sidecar in the
// pod template from the start.
func (d *Drill) planFaults() {
	for _, spec := range d.Scenario.Faults {
		p := &plannedFault{spec: spec, backend: spec.backend()}
		p.backend, p.skip = d.resolve(spec, p.backend)
		d.planned = append(d.planned, p)
	}
}

func (d *Drill) resolve(spec FaultSpec, backend string) (string, string) {
	env := d.opts.Faults
	if backend != BackendChaosMesh {
		return backend, ""
	}
	kind := chaosKind(spec.Kind)
	if reason, skip := env.Capabilities.Skip(kind); skip {
		if spec.Kind == FaultNetworkDelay && spec.Backend == "" && env.ToxiproxyImage != "" {
			return BackendToxiproxy, ""
		}
		return backend, kind + " cannot run here: " + reason
	}
	if env.Chaos == nil {
		return backend, "Chaos Mesh is not installed: " + env.ChaosMissing
	}
	return backend, ""
}

func chaosKind(kind string) string {
	switch kind {
	case FaultNetworkDelay, FaultNetworkPartition:
		return faults.KindNetworkChaos
	case FaultTimeShift:
		return "TimeChaos"
	}
	return "PodChaos"
}

// usesToxiproxy reports whether a planned fault needs the sidecar on target.
func (d *Drill) usesToxiproxy() (faults.Target, bool) {
	for _, p := range d.planned {
		if p.backend == BackendToxiproxy && p.skip == "" {
			return p.spec.Target, true
		}
	}
	return "", false
}

// InjectFaults starts every injected fault when its start condition holds
// and returns once each one's onset is confirmed. A fault this host cannot
// run makes the whole drill skipped (ErrSkipped, with the reason): a drill
// never passes without its fault.
func (d *Drill) InjectFaults(ctx context.Context) error {
	for _, p := range d.planned {
		if p.skip != "" {
			p.record = reports.FaultRecord{Name: p.spec.Kind, Kind: p.spec.Kind, Backend: p.backend,
				Target: string(p.spec.Target), Skipped: true, SkipReason: p.skip}
			return fmt.Errorf("%w: %s", ErrSkipped, p.skip)
		}
	}
	return phase(ctx, "inject faults", d.opts.Timeouts.Onset, func(ctx context.Context) error {
		for _, p := range d.planned {
			if err := d.inject(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func (d *Drill) inject(ctx context.Context, p *plannedFault) error {
	if err := d.awaitStart(ctx, p.spec.Start); err != nil {
		return err
	}
	f, err := d.buildFault(p)
	if err != nil {
		return err
	}
	p.fault = f
	rec, err := faults.Bracket(ctx, f, p.spec.Target)
	rec.Kind, rec.Backend = p.spec.Kind, p.backend
	p.record = rec
	if err != nil {
		return err
	}
	onset, how, err := d.seenByUsers(ctx, p, rec.Confirmed)
	if err != nil {
		return err
	}
	if _, seen := d.event(EventOnset); !seen {
		d.record(EventOnset, onset, fmt.Sprintf("%s (%s) on the %s: %s", p.spec.Kind, p.backend, p.spec.Target, how))
	}
	if p.spec.Duration > 0 {
		go d.recoverAfter(p, p.spec.Duration)
	}
	return nil
}

// recoverAfter removes a fault once its duration is over.
func (d *Drill) recoverAfter(p *plannedFault, after time.Duration) {
	select {
	case <-d.life.Done():
		return
	case <-time.After(after):
	}
	if err := p.fault.Recover(d.life); err == nil {
		d.mu.Lock()
		p.record.Recovered = time.Now()
		d.mu.Unlock()
		d.record("fault-recovered", time.Now(), p.spec.Kind)
	}
}

// awaitStart waits for the fault's start condition.
func (d *Drill) awaitStart(ctx context.Context, s Start) error {
	canaryAt, _ := d.event(EventCanaryStarted)
	switch s.When {
	case StartAfter:
		select {
		case <-time.After(time.Until(canaryAt.Add(s.After))):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case StartOnCanaryTraffic:
		return d.awaitCanaryShare(ctx, float64(s.Percent)/100)
	}
	return nil
}

// awaitCanaryShare waits until the canary answers at least share of the
// requests of the last SLO window.
func (d *Drill) awaitCanaryShare(ctx context.Context, share float64) error {
	window := d.Scenario.SLO.Window
	canary := d.Scenario.Canary.Name
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(context.Context) (bool, error) {
		samples := d.observer.Since(time.Now().Add(-window))
		n := 0
		for _, s := range samples {
			if s.Version == canary {
				n++
			}
		}
		return len(samples) > 0 && float64(n)/float64(len(samples)) >= share, nil
	})
}

// buildFault turns a planned spec into a fault of its backend.
func (d *Drill) buildFault(p *plannedFault) (faults.Fault, error) {
	selector, err := p.spec.Target.Selector(appName)
	if err != nil {
		return nil, err
	}
	client, ns := d.cluster.Client, d.Namespace
	switch p.spec.Kind + "/" + p.backend {
	case FaultPodKill + "/" + BackendChaosMesh, FaultPodFailure + "/" + BackendChaosMesh, FaultContainerKill + "/" + BackendChaosMesh:
		return d.chaosPod(p)
	case FaultPodKill + "/" + BackendNative:
		return native.DeletePods(client, ns, selector)
	case FaultNetworkDelay + "/" + BackendToxiproxy:
		return toxiproxy.Latency(client, toxiproxy.Target{Namespace: ns, App: appName, Pods: p.spec.Target}, p.spec.Latency, 0)
	case FaultNetworkPartition + "/" + BackendNative:
		return native.IptablesPartition(client, d.opts.Faults.NodeExec, ns, selector, appPort)
	case FaultBadImage + "/" + BackendNative:
		return native.BadImage(client, ns, deploymentOf(p.spec.Target), "firedrill/does-not-exist:bad")
	case FaultCrashLoop + "/" + BackendNative:
		return native.CrashLoopConfig(client, ns, deploymentOf(p.spec.Target))
	case FaultUnready + "/" + BackendNative:
		return native.Unready(client, ns, selector)
	case FaultTimeShift + "/" + BackendChaosMesh:
		return d.chaosTimeShift(p)
	case FaultNodePause + "/" + BackendNative:
		return d.nodePause(selector)
	case FaultConfigDrift + "/" + BackendNative:
		return native.ConfigDrift(client, ns, rollback.ConfigMapName(appName), p.spec.Config)
	}
	return nil, fmt.Errorf("fault %s has no %s backend", p.spec.Kind, p.backend)
}

// appName and appPort are the sample app's name and user port as the
// Deployment machinery deploys it.
const (
	appName = "app"
	appPort = 8080
)

func deploymentOf(t faults.Target) string {
	if t == faults.TargetStable {
		return appName + "-" + rollback.TrackStable
	}
	return appName + "-" + rollback.TrackCanary
}

// chaosPod builds a PodChaos of the spec's kind. Onset needs Chaos Mesh's
// AllInjected and the effect on the target pods: killed pods gone, failed
// pods not Ready, killed containers restarted.
func (d *Drill) chaosPod(p *plannedFault) (faults.Fault, error) {
	labels := map[string]string{"app": appName}
	if p.spec.Target != faults.TargetBoth {
		labels["track"] = string(p.spec.Target)
	}
	meta := chaosmesh.Meta{Name: p.spec.Kind + "-" + d.ID, Namespace: d.Namespace, Labels: map[string]string{LabelScenario: d.Scenario.Name}}
	target := chaosmesh.Target{Namespace: d.Namespace, Labels: maps.Clone(labels)}
	var obj *v1alpha1.PodChaos
	var err error
	switch p.spec.Kind {
	case FaultPodFailure:
		obj, err = chaosmesh.PodFailure(meta, target, p.spec.Duration)
	case FaultContainerKill:
		obj, err = chaosmesh.ContainerKill(meta, target, "app")
	default:
		obj, err = chaosmesh.PodKill(meta, target)
		if err == nil && p.spec.Graceful {
			obj.Spec.GracePeriod = 30
		}
	}
	if err != nil {
		return nil, err
	}
	confirm, err := d.podEffect(p.spec.Kind, labels)
	if err != nil {
		return nil, err
	}
	return &chaosmesh.Chaos{Client: d.opts.Faults.Chaos, Object: obj, FaultName: p.spec.Kind, Confirm: confirm}, nil
}

// seenByUsers confirms a network fault on the data plane: the observer must
// see its effect (a slow answer from the target, or a failed request) after
// the fault was confirmed through the API. Other kinds are confirmed by the
// API evidence their fault checked (pods gone, image pull failing).
func (d *Drill) seenByUsers(ctx context.Context, p *plannedFault, confirmed time.Time) (time.Time, string, error) {
	var match func(Sample) bool
	var how string
	switch p.spec.Kind {
	case FaultNetworkDelay:
		slow := p.spec.Latency / 2
		match = func(s Sample) bool { return !s.Failed() && s.Latency >= slow }
		how = fmt.Sprintf("an answer slower than %s seen", slow)
	case FaultNetworkPartition, FaultNodePause:
		match = Sample.Failed
		how = "a failed user request seen"
	default:
		return confirmed, "confirmed through the API", nil
	}
	var at time.Time
	err := wait.PollUntilContextCancel(ctx, pollEvery, true, func(context.Context) (bool, error) {
		for _, s := range d.observer.Since(p.record.Injected) {
			if match(s) {
				at = s.At
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%s injected but users never saw it: %w", p.spec.Kind, err)
	}
	return at, how, nil
}

// nodePause pauses the node that runs the first target pod.
func (d *Drill) nodePause(selector string) (faults.Fault, error) {
	if d.opts.Faults.Nodes == nil {
		return nil, errors.New("node-pause needs control over node containers (kind only)")
	}
	pods, err := d.cluster.Client.CoreV1().Pods(d.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			return native.NodePause(d.opts.Faults.Nodes, p.Spec.NodeName)
		}
	}
	return nil, fmt.Errorf("no scheduled pod matches %s", selector)
}
