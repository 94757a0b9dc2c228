package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Calibration compares an outage of known length with what the observer saw.
type Calibration struct {
	// Requested is the outage the app was told to serve.
	Requested time.Duration
	// Measured is the span of failed requests plus one observer interval.
	Measured time.Duration
	// Tolerance is two observer intervals.
	Tolerance time.Duration
	// Failed is the number of failed requests.
	Failed int
}

// Within reports whether the measurement matches the outage within tolerance.
func (c Calibration) Within() bool {
	diff := c.Measured - c.Requested
	return diff <= c.Tolerance && diff >= -c.Tolerance
}

func (c Calibration) String() string {
	return fmt.Sprintf("requested %s, measured %s (%d failed requests), tolerance ±%s", c.Requested, c.Measured, c.Failed, c.Tolerance)
}

// Calibrate tells every stable pod, through its admin port reached over the
// API server's pod proxy, to fail all requests for exactly the scenario's
// Calibrate duration, then measures the outage the observer saw. It
// validates the observer end to end.
func (d *Drill) Calibrate(ctx context.Context) (Calibration, error) {
	want := d.Scenario.Calibrate
	c := Calibration{Requested: want, Tolerance: 2 * d.observer.Interval()}
	pods, err := d.cluster.Client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: d.machinery.Placement().Stable.Selector})
	if err != nil {
		return c, err
	}
	var start time.Time
	for _, p := range pods.Items {
		s, err := d.startOutage(ctx, p.Name, want)
		if err != nil {
			return c, err
		}
		if start.IsZero() {
			start = s
		}
	}
	d.record(EventOnset, start, fmt.Sprintf("calibration outage of %s on %d pod(s)", want, len(pods.Items)))
	settle := want + 2*time.Second
	err = wait.PollUntilContextTimeout(ctx, pollEvery, settle+10*time.Second, false, func(context.Context) (bool, error) {
		return time.Since(start) > settle, nil
	})
	if err != nil {
		return c, err
	}
	c.Measured, c.Failed = outageSpan(d.observer.Since(start.Add(-time.Second)), d.observer.Interval())
	d.mu.Lock()
	d.result = &Result{Calibration: &c}
	d.mu.Unlock()
	return c, nil
}

// startOutage posts to the sample app's admin endpoint and returns the start
// the app reports.
func (d *Drill) startOutage(ctx context.Context, pod string, length time.Duration) (time.Time, error) {
	raw, err := d.cluster.Client.CoreV1().RESTClient().Post().
		Namespace(d.Namespace).Resource("pods").Name(fmt.Sprintf("%s:%d", pod, appcontract.AdminPort)).
		SubResource("proxy").Suffix(appcontract.AdminSegments(appcontract.PathOutage)...).Param("duration", length.String()).
		Do(ctx).Raw()
	if err != nil {
		return time.Time{}, fmt.Errorf("start outage on pod %s: %w", pod, err)
	}
	var got struct {
		Start time.Time `json:"start"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return time.Time{}, fmt.Errorf("outage answer of pod %s: %w", pod, err)
	}
	return got.Start, nil
}

// outageSpan measures an outage as the span from the first to the last
// failed request plus one interval (each request stands for one interval).
func outageSpan(samples []Sample, interval time.Duration) (time.Duration, int) {
	var first, last time.Time
	failed := 0
	for _, s := range samples {
		if !s.Failed() {
			continue
		}
		if first.IsZero() {
			first = s.At
		}
		last = s.At
		failed++
	}
	if failed == 0 {
		return 0, 0
	}
	return last.Sub(first) + interval, failed
}
