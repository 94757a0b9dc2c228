package drills

import (
	"testing"
	"time"
)

// TestTrafficInCountsOnlyWhatWasObserved: a window that starts before the
// observer did is measured over the observed part, so the rate is the
// observer's, not diluted by the time it was not running.
func TestTrafficInCountsOnlyWhatWasObserved(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	var samples []Sample
	for i := range 101 { // 50 Hz for 2 s, from t0+8s
		s := Sample{At: t0.Add(8*time.Second + time.Duration(i)*20*time.Millisecond), Status: 200, Latency: 5 * time.Millisecond}
		if i%10 == 0 {
			s.Status, s.Latency = 500, 40*time.Millisecond
		}
		samples = append(samples, s)
	}
	got := trafficIn(samples, t0, t0.Add(10*time.Second))
	if want := "50.0 req/s over 2.0 s, 11 failed, latency p50 5ms p99 40ms"; got != want {
		t.Errorf("trafficIn = %q, want %q", got, want)
	}
	if got := trafficIn(samples, t0, t0.Add(time.Second)); got != "0 request(s) observed" {
		t.Errorf("an empty window said %q", got)
	}
}
