package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
)

// chaosTimeShift builds a TimeChaos whose onset is confirmed when a target
// pod's own clock, read from the sample app's /time, is off by about the
// offset.
func (d *Drill) chaosTimeShift(p *plannedFault) (faults.Fault, error) {
	labels := map[string]string{"app": appName, "track": string(p.spec.Target)}
	obj, err := chaosmesh.TimeShift(
		chaosmesh.Meta{Name: "time-shift-" + d.ID, Namespace: d.Namespace, Labels: map[string]string{LabelScenario: d.Scenario.Name}},
		chaosmesh.Target{Namespace: d.Namespace, Labels: labels}, p.spec.Offset, p.spec.Duration)
	if err != nil {
		return nil, err
	}
	selector := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels})
	confirm := func(ctx context.Context) error { return d.awaitClockSkew(ctx, selector, p.spec.Offset) }
	return &chaosmesh.Chaos{Client: d.opts.Faults.Chaos, Object: obj, FaultName: p.spec.Kind, Confirm: confirm}, nil
}

// awaitClockSkew polls the target pods' /time through the API server's pod
// proxy until one of them is off by at least half the offset, in its direction.
func (d *Drill) awaitClockSkew(ctx context.Context, selector string, offset time.Duration) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, pollEvery*5, true, func(ctx context.Context) (bool, error) {
		pods, err := d.cluster.Client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			skew, err := d.podClockSkew(ctx, p.Name)
			if err != nil {
				last = err.Error()
				continue
			}
			last = fmt.Sprintf("pod %s clock off by %s", p.Name, skew.Round(time.Second))
			if skewMatches(skew, offset) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("clock shift of %s not seen (%s): %w", offset, last, err)
	}
	return nil
}

// skewMatches reports whether a measured skew shows an offset: same sign
// and at least half of it.
func skewMatches(skew, offset time.Duration) bool {
	if offset < 0 {
		return skew <= offset/2
	}
	return skew >= offset/2
}

func (d *Drill) podClockSkew(ctx context.Context, pod string) (time.Duration, error) {
	raw, err := d.cluster.Client.CoreV1().RESTClient().Get().
		Namespace(d.Namespace).Resource("pods").Name(fmt.Sprintf("%s:%d", pod, appPort)).
		SubResource("proxy").Suffix("time").Do(ctx).Raw()
	if err != nil {
		return 0, fmt.Errorf("read clock of pod %s: %w", pod, err)
	}
	var got struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return 0, fmt.Errorf("clock answer of pod %s: %w", pod, err)
	}
	return time.Until(got.Time), nil
}
