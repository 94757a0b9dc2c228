package drills

import (
	"strings"
	"testing"
	"time"
)

// hz50 is the default observer interval.
const hz50 = 20 * time.Millisecond

// outageStream is a 50 Hz stream over [0, length) whose requests in
// [from, from+outage) fail with a 503.
func outageStream(length, from, outage time.Duration) []Sample {
	var ss []Sample
	for off := time.Duration(0); off < length; off += hz50 {
		s := Sample{At: at(off), Latency: 2 * time.Millisecond, Status: 200, Version: "v1"}
		if off >= from && off < from+outage {
			s.Status = 503
		}
		ss = append(ss, s)
	}
	return ss
}

func TestOutageSpan(t *testing.T) {
	tests := []struct {
		name       string
		outage     time.Duration
		wantSpan   time.Duration
		wantFailed int
	}{
		{"exact 3s", 3 * time.Second, 3 * time.Second, 150},
		{"3.2s", 3200 * time.Millisecond, 3200 * time.Millisecond, 160},
		{"one request", hz50, hz50, 1},
		{"no outage", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			span, failed := outageSpan(outageStream(10*time.Second, 2*time.Second, tt.outage), hz50)
			if span != tt.wantSpan || failed != tt.wantFailed {
				t.Errorf("outageSpan() = %s, %d failed; want %s, %d", span, failed, tt.wantSpan, tt.wantFailed)
			}
		})
	}
}

func TestCalibrationMeasuredOutage(t *testing.T) {
	tests := []struct {
		name   string
		outage time.Duration
		within bool
	}{
		{"exact 3s block", 3 * time.Second, true},
		{"one interval long", 3*time.Second + hz50, true},
		{"two intervals long", 3*time.Second + 2*hz50, true},
		{"two intervals short", 3*time.Second - 2*hz50, true},
		{"three intervals long", 3*time.Second + 3*hz50, false},
		{"3.2s block", 3200 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Calibration{Requested: 3 * time.Second, Tolerance: 2 * hz50}
			c.Measured, c.Failed = outageSpan(outageStream(10*time.Second, time.Second, tt.outage), hz50)
			if c.Within() != tt.within {
				t.Errorf("Within() = %v, want %v for %s", c.Within(), tt.within, c)
			}
		})
	}
}

func TestCalibrationWithinBounds(t *testing.T) {
	tol := 40 * time.Millisecond
	for _, tt := range []struct {
		diff   time.Duration
		within bool
	}{
		{0, true}, {tol, true}, {-tol, true}, {tol + 1, false}, {-tol - 1, false},
	} {
		c := Calibration{Requested: 3 * time.Second, Measured: 3*time.Second + tt.diff, Tolerance: tol}
		if c.Within() != tt.within {
			t.Errorf("measured %+v off with tolerance %s: Within() = %v, want %v", tt.diff, tol, c.Within(), tt.within)
		}
	}
}

func TestCalibrationString(t *testing.T) {
	c := Calibration{Requested: 3 * time.Second, Measured: 3200 * time.Millisecond, Tolerance: 40 * time.Millisecond, Failed: 160}
	got := c.String()
	for _, want := range []string{"requested 3s", "measured 3.2s", "160 failed", "±40ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q, want it to contain %q", got, want)
		}
	}
}
