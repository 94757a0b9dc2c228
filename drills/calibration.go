package drills

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/reports"
)

// Outage is one calibration outage: how long the app fails requests, and
// the share of them it fails (1 for every request).
type Outage struct {
	Length time.Duration
	Ratio  float64
}

func (o Outage) String() string {
	return fmt.Sprintf("%s at %s", o.Length, ratioText(o.Ratio))
}

func ratioText(r float64) string { return reports.RatioPercent(r) }

// DefaultOutages are the calibration drill's outages: short, medium and long,
// each full and partial.
var DefaultOutages = []Outage{
	{time.Second, 1}, {4 * time.Second, 1}, {9 * time.Second, 1},
	{time.Second, 0.3}, {4 * time.Second, 0.3}, {9 * time.Second, 0.3},
}

// Calibration is the calibration table: each injected outage against what
// the drills' own estimator (Analyze, restored, ComputeMTTR) measured.
type Calibration struct {
	RateHz int
	Rows   []reports.CalibrationRow
}

// Within reports whether every row is within its stated bound.
func (c Calibration) Within() bool {
	for _, r := range c.Rows {
		if !r.Within {
			return false
		}
	}
	return len(c.Rows) > 0
}

// Table is the calibration table in Markdown.
func (c Calibration) Table() string { return reports.CalibrationTable(c.Rows) }

func (c Calibration) String() string {
	bad := 0
	for _, r := range c.Rows {
		if !r.Within {
			bad++
		}
	}
	if bad == 0 {
		return fmt.Sprintf("%d outages at %d Hz, every one measured within its stated bound", len(c.Rows), c.RateHz)
	}
	return fmt.Sprintf("%d of %d outages at %d Hz measured outside their stated bound", bad, len(c.Rows), c.RateHz)
}

// calibrate measures one outage that started at start from the drained
// stream, through the same estimator as every drill: onset is the start the
// app reported, restored is judged from there.
func calibrate(samples []Sample, slo SLO, o Outage, start time.Time, interval time.Duration) reports.CalibrationRow {
	row := reports.CalibrationRow{RateHz: int(time.Second / interval), Injected: reports.Duration(o.Length), Ratio: o.Ratio}
	e, err := estimateOutage(samples, slo, start, start, interval)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	if !e.analysis.Breached {
		row.Err = "the SLO never broke"
		return row
	}
	m := Marks{Onset: start, Detected: e.analysis.Detected, Restored: e.restored,
		OnsetBound: Bound{How: howOutage}, RestoredBound: e.restoredBound}
	mttr, err := ComputeMTTR(m, 0)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	row.Measured, row.Minus, row.Plus = mttr.Total, mttr.Minus, mttr.Plus
	row.Error = mttr.Total - reports.Duration(o.Length)
	row.Failed = e.analysis.Failed
	row.Within = row.Injected >= row.Measured-row.Minus && row.Injected <= row.Measured+row.Plus
	return row
}

// Calibrate tells every stable pod, through its admin port reached over the
// API server's pod proxy, to fail requests for each of the scenario's
// outages in turn, waits until the observer shows service restored after
// each, then measures them all on the drained stream. It validates the
// observer and the estimator end to end.
func (d *Drill) Calibrate(ctx context.Context) (Calibration, error) {
	c := Calibration{RateHz: int(time.Second / d.observer.Interval())}
	pods, err := d.cluster.Client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: d.machinery.Placement().Stable.Selector})
	if err != nil {
		return c, err
	}
	slo, interval := d.Scenario.SLO, d.observer.Interval()
	starts := make([]time.Time, len(d.Scenario.Calibrate))
	spreads := make([]time.Duration, len(d.Scenario.Calibrate))
	for i, o := range d.Scenario.Calibrate {
		for attempt := 1; ; attempt++ {
			d.noteNeighbours(ctx)
			if starts[i], spreads[i], err = d.startOutages(ctx, pods.Items, o); err != nil {
				return c, err
			}
			d.record("calibration-outage", starts[i], fmt.Sprintf("outage %s on %d pod(s)", o, len(pods.Items)))
			if err := d.awaitCalibrationRestored(ctx, o, starts[i]); err != nil {
				return c, err
			}
			// The app answers every injected failure with a status; a
			// request that got no answer at all was lost to the host (a
			// stall of its network), which says nothing of the estimator.
			lost := noAnswer(d.observer.Settled(time.Now()), starts[i])
			if lost == 0 || attempt == calibrationAttempts {
				break
			}
			d.record("calibration-rerun", time.Now(), fmt.Sprintf("outage %s again: %d request(s) got no HTTP answer during it (the host stalled)", o, lost))
		}
	}
	d.noteNeighbours(ctx)
	samples := d.observer.Stop()
	for i, o := range d.Scenario.Calibrate {
		// With several pods the outage runs from the first pod's start to
		// the last pod's end.
		o.Length += spreads[i]
		c.Rows = append(c.Rows, calibrate(samples, slo, o, starts[i], interval))
	}
	d.mu.Lock()
	d.result = &Result{Calibration: &c}
	d.result.Verdict, d.result.Why = judgeCalibration(&c)
	d.mu.Unlock()
	return c, nil
}

// calibrationAttempts is how often an outage disturbed by the host is run.
const calibrationAttempts = 2

// awaitCalibrationRestored waits until the observer shows service restored
// after the outage that started at start.
func (d *Drill) awaitCalibrationRestored(ctx context.Context, o Outage, start time.Time) error {
	slo, interval := d.Scenario.SLO, d.observer.Interval()
	limit := o.Length + slo.Window + slo.stability() + 30*time.Second
	err := wait.PollUntilContextTimeout(ctx, pollEvery*5, limit, false, func(context.Context) (bool, error) {
		settled := d.observer.Settled(time.Now())
		return len(settled) > 0 && settled[len(settled)-1].At.After(start.Add(o.Length)) &&
			!restoredAfter(settled, slo, start, interval).IsZero(), nil
	})
	if err != nil {
		return fmt.Errorf("calibration outage %s: service not restored within %s: %w", o, limit, err)
	}
	return nil
}

// noAnswer counts the requests from start on that got no HTTP answer.
func noAnswer(samples []Sample, start time.Time) int {
	n := 0
	for _, s := range samples {
		if !s.At.Before(start) && s.Status == 0 {
			n++
		}
	}
	return n
}

func judgeCalibration(c *Calibration) (string, string) {
	if c.Within() {
		return reports.VerdictPass, "calibration: " + c.String()
	}
	return reports.VerdictFail, "calibration off: " + c.String()
}

// startOutages starts one outage on every pod and returns the earliest
// start the pods report, and how much later the last one started.
func (d *Drill) startOutages(ctx context.Context, pods []corev1.Pod, o Outage) (time.Time, time.Duration, error) {
	var first, last time.Time
	for _, p := range pods {
		s, err := d.startOutage(ctx, p.Name, o)
		if err != nil {
			return time.Time{}, 0, err
		}
		if first.IsZero() || s.Before(first) {
			first = s
		}
		if s.After(last) {
			last = s
		}
	}
	if first.IsZero() {
		return first, 0, errors.New("no stable pod to start a calibration outage on")
	}
	return first, last.Sub(first), nil
}

// startOutage posts to the sample app's admin endpoint and returns the start
// the app reports.
func (d *Drill) startOutage(ctx context.Context, pod string, o Outage) (time.Time, error) {
	raw, err := d.cluster.Client.CoreV1().RESTClient().Post().
		Namespace(d.Namespace).Resource("pods").Name(fmt.Sprintf("%s:%d", pod, appcontract.AdminPort)).
		SubResource("proxy").Suffix(appcontract.AdminSegments(appcontract.PathOutage)...).
		Param(appcontract.OutageDuration, o.Length.String()).
		Param(appcontract.OutageRatio, strconv.FormatFloat(o.Ratio, 'f', -1, 64)).
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
