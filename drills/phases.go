package drills

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/rollback"
)

// pollEvery is how often phases that read the observer's samples look again.
const pollEvery = 100 * time.Millisecond

// CreateNamespace starts the drill clock and creates the drill namespace,
// labelled so that a sweep can find it. Register Cleanup right after it.
func (d *Drill) CreateNamespace(ctx context.Context) error {
	d.t0 = time.Now()
	d.record(EventStart, d.t0, "scenario "+d.Scenario.Name)
	go d.guard(d.life)
	return d.phase(ctx, "create namespace", d.opts.Timeouts.Namespace, func(ctx context.Context) error {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: d.Namespace, Labels: map[string]string{
			LabelDrill: "true", LabelScenario: d.Scenario.Name, LabelRun: d.opts.RunID,
		}, Annotations: map[string]string{
			// Chaos Mesh is installed with namespace filtering: only
			// drill namespaces carry this and can be targeted.
			chaosmesh.InjectAnnotation: "enabled",
		}}}
		if _, err := d.cluster.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
		d.watchChanges()
		return nil
	})
}

// DeployStable deploys the known-good version and waits until it is Ready.
func (d *Drill) DeployStable(ctx context.Context) error {
	return d.phase(ctx, "deploy stable", d.opts.Timeouts.StableReady, func(ctx context.Context) error {
		if err := d.machinery.DeployStable(ctx, d.version(d.Scenario.Stable)); err != nil {
			return err
		}
		d.record(EventStableReady, time.Now(), fmt.Sprintf("%d pod(s) of %s", d.Scenario.Stable.Replicas, d.Scenario.Stable.Name))
		return nil
	})
}

// StartObserver starts user traffic through the user path.
func (d *Drill) StartObserver(_ context.Context) error {
	if err := d.observer.Start(d.life); err != nil {
		return fmt.Errorf("start observer: %w", err)
	}
	d.countPods(d.life)
	d.record(EventObserving, time.Now(), fmt.Sprintf("%d Hz to %s", d.Scenario.Rate, d.opts.URL))
	return nil
}

// AwaitSteadyState waits until the stable version has served every request
// of the steady window successfully.
func (d *Drill) AwaitSteadyState(ctx context.Context) error {
	window := d.opts.Timeouts.SteadyWindow
	var last string
	err := d.phase(ctx, "steady state", d.opts.Timeouts.SteadyState, func(ctx context.Context) error {
		return wait.PollUntilContextCancel(ctx, pollEvery, false, func(context.Context) (bool, error) {
			var ok bool
			ok, last = steady(d.observer.Since(time.Now().Add(-window)), d.Scenario.Stable.Name, window, d.observer.Interval())
			return ok, nil
		})
	})
	if err != nil {
		return fmt.Errorf("%w (last window: %s)", err, last)
	}
	d.record(EventSteadyState, time.Now(), fmt.Sprintf("%s clean for %s", d.Scenario.Stable.Name, window))
	return nil
}

// steady reports whether samples cover the window and all succeeded on the
// stable version, and says why not.
func steady(samples []Sample, stable string, window, interval time.Duration) (bool, string) {
	want := int(window/interval) * 3 / 4
	if len(samples) < want {
		return false, fmt.Sprintf("%d requests, want %d", len(samples), want)
	}
	for _, s := range samples {
		if s.Failed() {
			return false, fmt.Sprintf("failed request at %s: status %d %s", s.At.Format(time.TimeOnly), s.Status, s.Err)
		}
		if s.Version != stable {
			return false, fmt.Sprintf("served by %q, want %q", s.Version, stable)
		}
	}
	return true, "clean"
}

// StartCanary starts the canary with the fault's knobs, then runs the
// machinery (and, when detection is delegated, the harness SLO monitor) in
// the background until cleanup.
func (d *Drill) StartCanary(ctx context.Context) error {
	canary := d.version(d.Scenario.canaryVersion())
	if err := d.machinery.StartCanary(why(ctx, "start canary"), canary); err != nil {
		return fmt.Errorf("start canary: %w", err)
	}
	d.record(EventCanaryStarted, time.Now(), fmt.Sprintf("%s under %s, fault %s", canary.Name, d.machinery.Name(), d.Scenario.faultKinds()))
	d.noteNeighbours(ctx)
	go func() {
		out, err := d.machinery.AwaitRollback(why(d.life, "machinery "+d.machinery.Name()+" decides and acts"))
		d.outcome <- outcomeOrErr{out, err}
	}()
	return nil
}

// startAlerting, once the fault's onset is confirmed, starts the harness
// SLO monitor when detection is delegated to it: it calls the machinery's
// alert hook at the first breach. A breach before onset (a stall of the
// host, a neighbour's load) is not about the fault and never alerts.
func (d *Drill) startAlerting() {
	if d.Scenario.Detection != rollback.DetectHarness {
		return
	}
	go d.observer.Watch(d.life, d.Scenario.SLO, pollEvery, func(at time.Time) {
		reason := fmt.Sprintf("SLO breached in the window ending %s", at.Format("15:04:05.000"))
		d.record(EventAlert, time.Now(), reason)
		if err := d.machinery.Trigger(why(d.life, "alert: "+reason), reason); err != nil {
			d.record(EventAlertFailed, time.Now(), err.Error())
		}
	})
}

// ConfirmOnset waits until the fault is confirmed active, on the data plane
// or through the API, never assumed from the canary's creation.
func (d *Drill) ConfirmOnset(ctx context.Context) error {
	err := d.phase(ctx, "confirm onset", d.opts.Timeouts.Onset, func(ctx context.Context) error {
		if len(d.planned) > 0 {
			return d.InjectFaults(ctx)
		}
		switch d.Scenario.Fault.Onset {
		case OnsetCanaryCrashes:
			return d.confirmCrash(ctx)
		case OnsetCanaryTestErrors:
			return d.confirmTestErrors(ctx)
		}
		return d.confirmCanaryErrors(ctx)
	})
	if err == nil {
		d.startAlerting()
	}
	return err
}

func (d *Drill) confirmCanaryErrors(ctx context.Context) error {
	start, _ := d.event(EventCanaryStarted)
	canary := d.Scenario.Canary.Name
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(context.Context) (bool, error) {
		slow := d.Scenario.Fault.Onset == OnsetCanarySlow
		for _, s := range d.observer.Since(start) {
			if s.Version != canary {
				continue
			}
			if s.Failed() {
				d.mark(EventOnset, s.At, sampledBound(d.observer.Interval()), fmt.Sprintf("canary %s answered status %d to a user request", canary, s.Status))
				return true, nil
			}
			if slow && s.Latency > d.Scenario.SLO.MaxP99 {
				d.mark(EventOnset, s.At, sampledBound(d.observer.Interval()), fmt.Sprintf("canary %s answered a user request in %s, over the SLO's %s", canary, s.Latency.Round(time.Millisecond), d.Scenario.SLO.MaxP99))
				return true, nil
			}
		}
		return false, nil
	})
}

func (d *Drill) confirmCrash(ctx context.Context) error {
	var detail string
	var crashed time.Time
	seen, err := kube.WaitPods(ctx, d.cluster.Client, d.Namespace, d.machinery.Placement().Canary.Selector, func(pods []*corev1.Pod) (bool, error) {
		detail = kube.FirstCrash(pods)
		crashed = kube.CrashedAt(pods)
		return detail != "", nil
	})
	if err != nil {
		return err
	}
	// The kubelet's finishedAt is truncated to the second: the crash is in
	// [finishedAt, finishedAt+1s), and never after the watch saw it. A pod
	// that cannot start has no finishedAt; the watch instant is then all we
	// know, and the crash came after the canary started.
	if crashed.IsZero() || crashed.After(seen) {
		started, _ := d.event(EventCanaryStarted)
		d.mark(EventOnset, seen, Bound{Before: seen.Sub(started), How: "when the watch saw the canary unable to start"}, "canary "+detail)
		return nil
	}
	d.mark(EventOnset, crashed, Bound{After: min(time.Second, seen.Sub(crashed)), How: howCrash}, "canary "+detail)
	return nil
}

// AwaitRollback waits for the machinery's decision and actuation. A steady
// drill expects no rollback and returns at once.
func (d *Drill) AwaitRollback(ctx context.Context) error {
	if d.Scenario.Expect.Steady() {
		return nil
	}
	return d.phase(ctx, "await rollback", d.opts.Timeouts.Rollback, func(ctx context.Context) error {
		budgetOut := time.After(time.Until(d.onset().Add(d.Scenario.Budget)))
		var reassess <-chan time.Time
		for {
			select {
			case r := <-d.outcome:
				if r.err != nil {
					return r.err
				}
				d.recordOutcome(r.out)
				return nil
			case <-budgetOut:
				if d.declaredHealthy(ctx, true) {
					return nil
				}
				t := time.NewTicker(reassessEvery)
				defer t.Stop()
				reassess = t.C
			case <-reassess:
				if d.declaredHealthy(ctx, false) {
					return nil
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

// reassessEvery is how often a drill past its budget asks an undecided
// machinery again what it thinks of the new version.
const reassessEvery = 2 * time.Second

// onset is the drill's onset mark (zero before ConfirmOnset).
func (d *Drill) onset() time.Time {
	at, _ := d.event(EventOnset)
	return at
}

// declaredHealthy, once the budget has run out with no decision, asks a
// machinery that can assess the new version what it thinks. One that calls
// it healthy and has settled (it will not act by itself) has declared
// healthy a version that needed a rollback: that is recorded, and the
// drill goes on to judge it. Otherwise the drill keeps waiting for a
// decision, and notes the first such answer (first) on the timeline.
func (d *Drill) declaredHealthy(ctx context.Context, first bool) bool {
	a, ok := d.machinery.(rollback.Assessor)
	if !ok {
		return false
	}
	got, err := a.Assess(ctx)
	switch {
	case err != nil:
		d.record(EventMachineryError, time.Now(), "assess the new version: "+err.Error())
		return false
	case !got.Healthy || !got.Settled:
		if first {
			d.record(EventUndecided, time.Now(), "budget spent, no decision yet; "+got.Detail)
		}
		return false
	}
	d.record(EventDeclaredHealthy, time.Now(), got.Detail)
	d.mu.Lock()
	d.result = &Result{DeclaredHealthy: got.Detail}
	d.mu.Unlock()
	return true
}

// recordOutcome puts the machinery's marks on the timeline: its own
// detection when it has one, then its decision and actuation, or its
// promotion of the new version instead.
func (d *Drill) recordOutcome(out rollback.Outcome) {
	if !out.Detected.IsZero() {
		d.mark(EventDetected, out.Detected, Bound{Before: out.DetectedBefore, How: howMachineryWatch}, out.DetectedBy+": "+out.DetectedDetail)
	}
	res := &Result{DetectedBy: out.DetectedBy, Reason: out.Reason, Evidence: out.Evidence}
	if out.Promoted {
		d.record(EventPromoted, out.Decided, out.Reason)
		res.Promoted = out.Reason
	} else {
		d.record(EventDecided, out.Decided, out.DetectedBy+": "+out.Reason)
		d.record(EventActuated, out.Actuated, out.Actuation)
	}
	d.mu.Lock()
	d.result = res
	d.mu.Unlock()
}
