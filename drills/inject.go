package drills

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// ErrSkipped marks a drill whose fault cannot run here; the reason is in
// the error and in the report.
var ErrSkipped = errors.New("fault skipped")

// plannedFault is a spec resolved to its kind and a backend, or to a skip
// reason.
type plannedFault struct {
	spec    faults.Spec
	kind    faults.Kind
	backend string
	skip    string
	fault   faults.Fault
	record  reports.FaultRecord
}

// planFaults resolves every spec's kind and backend against what this host
// can run, before anything is created: a skipped drill creates nothing, and
// a fault that needs something in the pods (a sidecar) gets it from the start.
func (d *Drill) planFaults() error {
	for _, spec := range d.Scenario.Faults {
		kind, err := faults.Lookup(spec.Kind)
		if err != nil {
			return err
		}
		backend, skip, err := faults.Resolve(d.opts.Faults, spec)
		if err != nil {
			return err
		}
		d.planned = append(d.planned, &plannedFault{spec: spec, kind: kind, backend: backend, skip: skip,
			record: reports.FaultRecord{Name: spec.Kind, Kind: spec.Kind, Backend: backend, Target: string(spec.Target),
				Skipped: skip != "", SkipReason: skip}})
	}
	return nil
}

// SkipReason is why this host cannot run the drill's faults, or "". A
// skipped drill is reported skipped before its namespace is created.
func (d *Drill) SkipReason() string {
	for _, p := range d.planned {
		if p.skip != "" {
			return "skipped: " + p.skip
		}
	}
	return ""
}

// podHook combines what the planned faults need in the pod templates. Two
// faults that both reroute user traffic cannot share a drill.
func (d *Drill) podHook() (*rollback.PodHook, error) {
	var hook *rollback.PodHook
	for _, p := range d.planned {
		if p.kind.Pods == nil || p.skip != "" {
			continue
		}
		h := p.kind.Pods(d.opts.Faults, p.spec, p.backend)
		if h == nil {
			continue
		}
		if hook != nil {
			return nil, fmt.Errorf("faults %s: two faults change the pod templates", p.spec.Kind)
		}
		target := p.spec.Target
		hook = &rollback.PodHook{TargetPort: h.TargetPort, Apply: func(canary bool, tmpl *corev1.PodTemplateSpec) error {
			return h.Apply(target.Hits(canary), tmpl)
		}}
	}
	return hook, nil
}

// faultEnv is what fault kinds build from: the machinery's placement of
// each target, and the drill's names.
func (d *Drill) faultEnv() faults.Env {
	pl := d.machinery.Placement()
	site := func(w rollback.Where) faults.Site {
		return faults.Site{Selector: w.Selector, Labels: w.Labels, Deployment: w.Deployment}
	}
	return faults.Env{
		Host: d.opts.Faults, Client: d.cluster.Client, Namespace: d.Namespace, Name: d.ID,
		Labels: map[string]string{LabelDrill: "true", LabelScenario: d.Scenario.Name, LabelRun: d.opts.RunID}, ConfigMap: pl.ConfigMap,
		Site: func(t faults.Target) faults.Site {
			switch t {
			case faults.TargetStable:
				return site(pl.Stable)
			case faults.TargetBoth:
				return faults.Site{Selector: pl.All, Labels: labelsOf(pl.All)}
			case faults.TargetDependency:
				return site(pl.Dependency)
			}
			return site(pl.Canary)
		},
	}
}

// labelsOf turns an equality selector ("a=b,c=d") into a label map.
func labelsOf(selector string) map[string]string {
	out := map[string]string{}
	for _, term := range strings.Split(selector, ",") {
		if k, v, ok := strings.Cut(term, "="); ok {
			out[k] = v
		}
	}
	return out
}

// InjectFaults starts every injected fault when its start condition holds
// and returns once each one's onset is confirmed. A fault this host cannot
// run makes the whole drill skipped (ErrSkipped, with the reason): a drill
// never passes without its fault.
func (d *Drill) InjectFaults(ctx context.Context) error {
	if skip := d.SkipReason(); skip != "" {
		return fmt.Errorf("%w: %s", ErrSkipped, skip)
	}
	return d.phase(ctx, "inject faults", d.opts.Timeouts.Onset, func(ctx context.Context) error {
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
	f, err := p.kind.Build(ctx, d.faultEnv(), p.spec, p.backend)
	if err != nil {
		return fmt.Errorf("build fault %s (%s): %w", p.spec.Kind, p.backend, err)
	}
	expiring, _ := f.(faults.Expiring)
	if expiring != nil {
		expiring.SetExpiry(d.expiry(p.spec))
	}
	d.mu.Lock()
	p.fault = f
	d.mu.Unlock()
	rec, err := faults.Bracket(why(ctx, p.spec.Kind+" on "+string(p.spec.Target)), f, p.spec.Target)
	rec.Kind, rec.Backend = p.spec.Kind, p.backend
	if expiring != nil {
		rec.ExpiresBy = expiring.ExpiresBy()
	}
	d.mu.Lock()
	p.record = rec
	d.mu.Unlock()
	if err != nil {
		return err
	}
	how, err := d.seenByUsers(ctx, p)
	if err != nil {
		return err
	}
	if _, seen := d.event(EventOnset); !seen {
		// Onset is the injection, bracketed by the API; what users saw
		// first is its own mark (first-failure).
		detail := fmt.Sprintf("%s (%s) on the %s: %s", p.spec.Kind, p.backend, targetName(p.spec.Target), how)
		d.mark(EventInjected, rec.Injected, injectedBound(rec.Injected, rec.Confirmed), detail)
		d.mark(EventOnset, rec.Injected, injectedBound(rec.Injected, rec.Confirmed), "MTTR starts at the injection")
	}
	if p.spec.Duration > 0 {
		go d.recoverAfter(p, p.spec.Duration)
	}
	return nil
}

// expiry is when a fault must end by itself should this process die: by
// its duration plus the margin, or, for a fault held until the drill
// removes it, by what is left of the drill's wall-clock cap plus the
// margin. No drill outlives its cap, so none of its faults should. The
// timer fires early enough for its undo to finish within the margin.
func (d *Drill) expiry(spec faults.Spec) faults.Expiry {
	after := spec.Duration
	if after == 0 {
		after = max(time.Until(d.t0.Add(d.Scenario.Guard.withDefaults().MaxWall)), 0)
	}
	return faults.Expiry{Run: d.opts.RunID, After: after + faults.ExpiryMargin - faults.ExpiryUndo, NodeExec: d.opts.Faults.NodeExec}
}

func targetName(t faults.Target) string {
	if t == "" {
		return "app"
	}
	return string(t)
}

// recoverAfter removes a fault once its duration is over.
func (d *Drill) recoverAfter(p *plannedFault, after time.Duration) {
	select {
	case <-d.life.Done():
		return
	case <-time.After(after):
	}
	if err := p.fault.Recover(why(d.life, "recover "+p.spec.Kind+" after its "+after.String())); err == nil {
		d.mu.Lock()
		p.record.Recovered = time.Now()
		d.mu.Unlock()
		d.record("fault-recovered", time.Now(), p.spec.Kind)
	}
}

// awaitStart waits for the fault's start condition.
func (d *Drill) awaitStart(ctx context.Context, s faults.Start) error {
	canaryAt, _ := d.event(EventCanaryStarted)
	switch s.When {
	case faults.StartAfter:
		select {
		case <-time.After(time.Until(canaryAt.Add(s.After))):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case faults.StartOnCanaryTraffic:
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

// seenByUsers confirms a fault whose kind names a user-visible effect on the
// data plane: the observer must see it after the fault was injected. Other
// kinds are confirmed by the API evidence their fault checked.
func (d *Drill) seenByUsers(ctx context.Context, p *plannedFault) (string, error) {
	if p.kind.Effect == nil {
		return "confirmed through the API", nil
	}
	effect := p.kind.Effect(p.spec)
	err := wait.PollUntilContextCancel(ctx, pollEvery, true, func(context.Context) (bool, error) {
		for _, s := range d.observer.Since(p.record.Injected) {
			if effect.Seen(s.Failed(), s.Latency) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("%s injected but users never saw it: %w", p.spec.Kind, err)
	}
	return effect.Describe, nil
}

// recoverFaults removes every injected fault and checks that nothing of it
// is left, recording when it was recovered and whether cleanup was forced.
func (d *Drill) recoverFaults(ctx context.Context) error {
	var problems []string
	for _, p := range d.planned {
		d.mu.Lock()
		f, done := p.fault, !p.record.Recovered.IsZero()
		d.mu.Unlock()
		if f == nil || done {
			continue
		}
		if err := f.Recover(why(ctx, "recover "+p.spec.Kind)); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := f.Verify(ctx); err != nil {
			problems = append(problems, err.Error())
		}
		d.mu.Lock()
		if p.record.Recovered.IsZero() {
			p.record.Recovered = time.Now()
		}
		if f, ok := f.(interface{ ForcedCleanup() bool }); ok && f.ForcedCleanup() {
			p.record.ForcedCleanup = true
		}
		d.mu.Unlock()
	}
	if len(problems) > 0 {
		return fmt.Errorf("recover faults: %s", strings.Join(problems, "; "))
	}
	return nil
}
