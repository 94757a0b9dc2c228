package drills

import (
	"testing"
	"time"
)

func TestSeriesBuckets(t *testing.T) {
	// 50ms samples over 2s, failing in [0.5s, 1s): the second 500ms bucket
	// is all failures, the others all successes.
	samples := stream(2*time.Second, during(500*time.Millisecond, time.Second))
	points := Series(samples, base, SeriesBucket)
	if len(points) != 4 {
		t.Fatalf("got %d points, want 4", len(points))
	}
	for i, p := range points {
		if got, want := time.Duration(p.Offset), time.Duration(i)*SeriesBucket; got != want {
			t.Errorf("point %d offset %s, want %s", i, got, want)
		}
		if p.Requests != 10 {
			t.Errorf("point %d has %d requests, want 10", i, p.Requests)
		}
		want := 1.0
		if i == 1 {
			want = 0
		}
		if p.SuccessRatio != want {
			t.Errorf("point %d success ratio %v, want %v", i, p.SuccessRatio, want)
		}
	}
}

func TestSpanStats(t *testing.T) {
	samples := stream(3*time.Second, during(time.Second, 2*time.Second))
	before := SpanStats(samples, time.Time{}, at(time.Second))
	during := SpanStats(samples, at(time.Second), at(2*time.Second))
	after := SpanStats(samples, at(2*time.Second), time.Time{})
	if before.Requests != 20 || before.Failures != 0 {
		t.Errorf("before = %+v, want 20 requests, 0 failures", before)
	}
	if during.Requests != 20 || during.Failures != 20 {
		t.Errorf("during = %+v, want 20 requests, 20 failures", during)
	}
	if after.Requests != 20 || after.Failures != 0 {
		t.Errorf("after = %+v, want 20 requests, 0 failures", after)
	}
	if before.P99 != after.P99 || time.Duration(before.P99) != 10*time.Millisecond {
		t.Errorf("p99 before %s after %s, want 10ms", before.P99, after.P99)
	}
}
