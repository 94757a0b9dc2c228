package drills

import (
	"strings"
	"testing"
	"time"
)

// served returns n successful samples of version, one every interval from base.
func served(n int, version string, interval time.Duration) []Sample {
	ss := make([]Sample, n)
	for i := range ss {
		ss[i] = Sample{At: base.Add(time.Duration(i) * interval), Latency: 5 * time.Millisecond, Status: 200, Version: version}
	}
	return ss
}

func TestSteady(t *testing.T) {
	const interval = 20 * time.Millisecond
	window := time.Second // 50 intervals; steady wants 3/4 of them, 37
	tests := []struct {
		name    string
		samples func() []Sample
		ok      bool
		why     string // substring of the reason
	}{
		{"clean window", func() []Sample { return served(50, "v1", interval) }, true, "clean"},
		{"just enough samples", func() []Sample { return served(37, "v1", interval) }, true, "clean"},
		{"too few samples", func() []Sample { return served(36, "v1", interval) }, false, "36 requests, want 37"},
		{"no samples", func() []Sample { return nil }, false, "0 requests"},
		{"server error", func() []Sample {
			ss := served(50, "v1", interval)
			ss[20].Status = 503
			return ss
		}, false, "status 503"},
		{"connection error", func() []Sample {
			ss := served(50, "v1", interval)
			ss[49] = Sample{At: ss[49].At, Err: "connection refused"}
			return ss
		}, false, "connection refused"},
		{"served by another version", func() []Sample {
			ss := served(50, "v1", interval)
			ss[10].Version = "v2"
			return ss
		}, false, `served by "v2", want "v1"`},
		{"a 4xx is served", func() []Sample {
			ss := served(50, "v1", interval)
			ss[5].Status = 404
			return ss
		}, true, "clean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why := steady(tt.samples(), "v1", window, interval)
			if ok != tt.ok || !strings.Contains(why, tt.why) {
				t.Errorf("steady() = %v, %q; want %v and a reason containing %q", ok, why, tt.ok, tt.why)
			}
		})
	}
}

func TestServedVersions(t *testing.T) {
	const interval = 20 * time.Millisecond
	from := base.Add(10 * interval)
	mark := func(ss []Sample, version string, status int, idx ...int) []Sample {
		for _, i := range idx {
			ss[i].Version, ss[i].Status = version, status
		}
		return ss
	}
	tests := []struct {
		name    string
		samples []Sample
		want    string
	}{
		{"one version", served(30, "v1", interval), "v1"},
		{"canary before from is ignored", mark(served(30, "v1", interval), "v2", 200, 0, 1, 9), "v1"},
		{"mixed", mark(served(30, "v1", interval), "v2", 200, 15, 16, 17, 18, 19), "v1 75.0%, v2 25.0%"},
		{"failed samples are ignored", mark(served(30, "v1", interval), "v2", 503, 10, 11, 12, 13, 14), "v1"},
		{"breakdown in order of first answer", mark(served(14, "v1", interval), "v2", 200, 10, 11, 12), "v2 75.0%, v1 25.0%"},
		{"nothing served", mark(served(12, "v1", interval), "v1", 0, 10, 11), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := servedVersions(tt.samples, from); got != tt.want {
				t.Errorf("servedVersions() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRestoredAfter(t *testing.T) {
	// A 1s window at 5% (20 samples at 20 Hz, so the second failure in a
	// window is a breach) that must hold for 2s.
	slo := SLO{MaxErrorRatio: 0.05, Window: time.Second, Stability: 2 * time.Second}
	actuated := at(10 * time.Second)
	tests := []struct {
		name    string
		samples []Sample
		want    time.Time
	}{
		{"no samples", nil, time.Time{}},
		{"stream ends before actuated+stability", stream(11*time.Second, never), time.Time{}},
		{"stream ends just short of actuated+stability", stream(12*time.Second, never), time.Time{}},
		{"clean from actuation", stream(13*time.Second, during(5*time.Second, 9*time.Second)), actuated},
		// Failures end at 11.95s; the window (11.9s, 12.9s] is the first with
		// at most one failure in 20.
		{"breach continues after actuation", stream(16*time.Second, during(5*time.Second, 12*time.Second)), at(12900 * time.Millisecond)},
		{"breach not yet over", stream(16*time.Second, during(5*time.Second, 16*time.Second)), time.Time{}},
		{"recovered but not held long enough", stream(14*time.Second, during(5*time.Second, 12*time.Second)), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := restoredAfter(tt.samples, slo, actuated, every)
			if !got.Equal(tt.want) {
				t.Errorf("restoredAfter() = %s, want %s (t0-relative; actuated at 10s)", relative(got), relative(tt.want))
			}
			if !got.IsZero() {
				if a := Analyze(tt.samples, slo, actuated, every); a.Breached && !got.Equal(a.Restored) {
					t.Errorf("restoredAfter() = %s, but Analyze from actuation says restored at %s", relative(got), relative(a.Restored))
				}
			}
		})
	}
}

// relative formats a synthetic instant as its offset from base.
func relative(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.Sub(base).String()
}

// TestRestoredAfterIgnoresLaterIncident: a breach that starts after the full
// stability window following actuation is a new incident and must not move
// the restored instant (nor keep the drill waiting).
func TestRestoredAfterIgnoresLaterIncident(t *testing.T) {
	slo := SLO{MaxErrorRatio: 0.05, Window: time.Second, Stability: 2 * time.Second}
	full := stream(20*time.Second, during(15*time.Second, 16*time.Second))
	if got := restoredAfter(full, slo, at(10*time.Second), 50*time.Millisecond); !got.Equal(at(10 * time.Second)) {
		t.Errorf("restored at %s, want the actuation at 10s", relative(got))
	}
	cut := stream(15500*time.Millisecond, during(15*time.Second, 16*time.Second))
	if got := restoredAfter(cut, slo, at(10*time.Second), 50*time.Millisecond); !got.Equal(at(10 * time.Second)) {
		t.Errorf("restored at %s with the later incident under way, want 10s", relative(got))
	}
}
