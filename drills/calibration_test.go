package drills

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
)

// hz50 is the default observer interval.
const hz50 = 20 * time.Millisecond

// calibrationSLO is the calibration scenario's SLO.
var calibrationSLO = SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second, Stability: 3 * time.Second}

// syntheticOutage is a stream at hz over [0, length) whose requests arriving
// in [from, from+o.Length) fail with probability o.Ratio (from a seeded
// source, so the test is repeatable). A failed request hangs until the 1 s
// timeout when hang is set: it is stamped with its start, as the observer
// stamps it, however late it finished.
func syntheticOutage(hz int, length, from time.Duration, o Outage, hang bool, seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 7))
	interval := time.Second / time.Duration(hz)
	var ss []Sample
	for off := time.Duration(0); off < length; off += interval {
		// Each request starts with a little jitter, as real pacing has.
		start := off + time.Duration(rng.IntN(int(interval/4)))
		s := Sample{At: at(start), Latency: 2 * time.Millisecond, Status: 200, Version: "v1"}
		arrives := start + time.Millisecond
		if arrives >= from && arrives < from+o.Length && rng.Float64() < o.Ratio {
			s.Status = 500
			if hang {
				s.Status, s.Err, s.Latency = 0, "timeout", time.Second
			}
		}
		ss = append(ss, s)
	}
	return ss
}

// TestCalibrationEstimatorWithinBound runs the whole estimator (Analyze,
// restored, ComputeMTTR) on outages of known length, full and partial, at
// the rates make bench uses: each must be measured within the bound it
// states, and the bound must be tight enough to mean something.
func TestCalibrationEstimatorWithinBound(t *testing.T) {
	for _, hz := range []int{20, 50, 100} {
		for i, o := range DefaultOutages {
			for _, hang := range []bool{false, true} {
				name := fmt.Sprintf("%dHz/%s/hang=%v", hz, o, hang)
				t.Run(name, func(t *testing.T) {
					from := 3 * time.Second
					ss := syntheticOutage(hz, from+o.Length+12*time.Second, from, o, hang, uint64(hz*10+i))
					row := calibrate(ss, calibrationSLO, o, at(from), time.Second/time.Duration(hz))
					if row.Err != "" || !row.Within {
						t.Fatalf("%s: %+v not within its bound", name, row)
					}
					if row.Minus > reports.Duration(calibrationSLO.Window+time.Second/time.Duration(hz)) {
						t.Errorf("%s: bound −%s is wider than a window and an interval", name, row.Minus)
					}
				})
			}
		}
	}
}

// TestCalibrationCatchesAWrongEstimate: a row whose stated bound does not
// cover the injected outage is not within, and a calibration with such a
// row fails.
func TestCalibrationCatchesAWrongEstimate(t *testing.T) {
	o := Outage{Length: 4 * time.Second, Ratio: 1}
	ss := syntheticOutage(50, 20*time.Second, 3*time.Second, o, false, 1)
	// Told the outage started 2 s later than it did, the estimator
	// measures 2 s too little, far outside its bound.
	row := calibrate(ss, calibrationSLO, o, at(5*time.Second), hz50)
	if row.Within {
		t.Fatalf("a 2 s onset error was called within: %+v", row)
	}
	c := Calibration{RateHz: 50, Rows: []reports.CalibrationRow{row}}
	if c.Within() {
		t.Error("Calibration.Within() = true with a row outside its bound")
	}
	if v, why := judgeCalibration(&c); v != reports.VerdictFail || !strings.Contains(why, "1 of 1 outages at 50 Hz measured outside") {
		t.Errorf("judgeCalibration = %s %q, want fail naming the row", v, why)
	}
	if (Calibration{}).Within() {
		t.Error("an empty calibration is within")
	}
}

// TestCalibrationNoBreach: an outage the SLO never sees is a failed row.
func TestCalibrationNoBreach(t *testing.T) {
	o := Outage{Length: time.Second, Ratio: 0.01}
	ss := syntheticOutage(50, 20*time.Second, 3*time.Second, o, false, 3)
	if row := calibrate(ss, calibrationSLO, o, at(3*time.Second), hz50); row.Within || row.Err == "" {
		t.Errorf("an unseen outage gave %+v, want a row with a problem", row)
	}
}

// TestRestoredBoundCoversWindowLag is the case the old bound missed: with
// 25 % of requests failing and a 5 %/2 s SLO, the last failure comes about
// 1.5 s before restored is computed. The stated bound must reach back to
// it, and the true end of the outage must lie inside it.
func TestRestoredBoundCoversWindowLag(t *testing.T) {
	slo := SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second, Stability: 5 * time.Second}
	var ss []Sample
	end := 8 * time.Second // the outage's true end
	for off := time.Duration(0); off < 20*time.Second; off += hz50 {
		s := Sample{At: at(off), Latency: 2 * time.Millisecond, Status: 200, Version: "v1"}
		if off >= 4*time.Second && off < end && (off/hz50)%4 == 0 {
			s.Status = 500 // every fourth request fails
		}
		ss = append(ss, s)
	}
	e, err := estimateOutage(ss, slo, at(4*time.Second), at(4*time.Second), hz50)
	if err != nil {
		t.Fatal(err)
	}
	lag := e.restored.Sub(e.lastBad)
	if lag < 1400*time.Millisecond || lag > 1700*time.Millisecond {
		t.Fatalf("restored lags the last failure by %s, want about 1.5 s for this stream", lag)
	}
	m, err := ComputeMTTR(Marks{Onset: at(4 * time.Second), Restored: e.restored, RestoredBound: e.restoredBound}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	trueMTTR := reports.Duration(end - 4*time.Second)
	if trueMTTR < m.Total-m.Minus || trueMTTR > m.Total+m.Plus {
		t.Errorf("true MTTR %s outside the stated %s %s", trueMTTR, m.Total, m.BoundText())
	}
	if m.Minus < reports.Duration(lag) {
		t.Errorf("bound −%s does not cover the %s window lag", m.Minus, lag)
	}
}

// TestSettledLeavesOutInFlight: requests still in flight are not in the
// stream yet; judged on it, restored would come too early. Settled leaves
// out the newest Timeout, so restored waits for them.
func TestSettledLeavesOutInFlight(t *testing.T) {
	o := &Observer{cfg: ObserverConfig{Rate: 50, Timeout: time.Second}}
	now := at(20 * time.Second)
	// Healthy answers until now, except the requests started in the last
	// 600 ms, which hang: they are not recorded yet.
	for off := time.Duration(0); off < 20*time.Second-600*time.Millisecond; off += hz50 {
		o.record(Sample{At: at(off), Latency: 2 * time.Millisecond, Status: 200})
	}
	slo := SLO{MaxErrorRatio: 0.05, Window: time.Second, Stability: 5 * time.Second}
	from := at(14 * time.Second)
	if got := restoredAfter(o.Samples(), slo, from, hz50); got.IsZero() {
		t.Fatal("precondition: the unsettled stream should look restored")
	}
	if got := restoredAfter(o.Settled(now), slo, from, hz50); !got.IsZero() {
		t.Errorf("restored judged on settled samples = %s, want not yet: the last second is still in flight", relative(got))
	}
	settled := o.Settled(now)
	if last := settled[len(settled)-1].At; last.After(now.Add(-time.Second)) {
		t.Errorf("Settled kept a sample at %s, within Timeout of now", relative(last))
	}
}

func TestCalibrationTable(t *testing.T) {
	row := reports.CalibrationRow{RateHz: 50, Injected: reports.Duration(4 * time.Second), Ratio: 0.3,
		Measured: reports.Duration(5700 * time.Millisecond), Error: reports.Duration(1700 * time.Millisecond),
		Minus: reports.Duration(1720 * time.Millisecond), Failed: 61, Within: true}
	got := Calibration{RateHz: 50, Rows: []reports.CalibrationRow{row}}.Table()
	for _, want := range []string{"| 50 Hz | 4.0 s | 30% | 5.700 s | +1.700 s | −1.720/+0.000 s | 61 | yes |", "Stated bound"} {
		if !strings.Contains(got, want) {
			t.Errorf("Table() =\n%s\nwant it to contain %q", got, want)
		}
	}
}

// Only requests with no HTTP answer, from the outage's start on, count as
// lost to the host: the app's own failures carry a status.
func TestNoAnswer(t *testing.T) {
	samples := []Sample{{At: at(0), Status: 0}, {At: at(time.Second), Status: 500}, {At: at(2 * time.Second), Status: 0, Err: "timeout"}, {At: at(3 * time.Second), Status: 200}}
	if n := noAnswer(samples, at(time.Second)); n != 1 {
		t.Errorf("noAnswer = %d, want 1 (the timeout after the start)", n)
	}
}
