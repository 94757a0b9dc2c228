package main

import (
	"testing"
	"time"
)

func TestOutageCoversExactlyItsWindow(t *testing.T) {
	start := time.Now()
	o := outage{Start: start, End: start.Add(300 * time.Millisecond), Ratio: 1}
	tests := []struct {
		at   time.Duration
		want bool
	}{
		{-time.Nanosecond, false},
		{0, true},
		{300*time.Millisecond - time.Nanosecond, true},
		{300 * time.Millisecond, false},
	}
	for _, tt := range tests {
		if got := o.fails(start.Add(tt.at), 0.999); got != tt.want {
			t.Errorf("fails(start%+v) = %v, want %v", tt.at, got, tt.want)
		}
	}
	if (outage{}).fails(start, 0) {
		t.Error("the zero outage fails a request now")
	}
}

func TestPartialOutageFailsItsRatio(t *testing.T) {
	start := time.Now()
	o := outage{Start: start, End: start.Add(time.Second), Ratio: 0.3}
	if !o.fails(start, 0.29) || o.fails(start, 0.3) {
		t.Error("a 30 % outage must fail draws below 0.3 and only those")
	}
	if o.fails(start.Add(time.Second), 0) {
		t.Error("a partial outage fails a request after its end")
	}
}

func TestApplyLeavesKnobsUnchangedOnError(t *testing.T) {
	k := newKnobs(knobSettings{ErrorRatio: 0.1})
	ratio, latency := 0.9, "soon"
	if _, err := k.apply(knobUpdate{ErrorRatio: &ratio, Latency: &latency}); err == nil {
		t.Fatal("apply accepted latency \"soon\"")
	}
	if got, _ := k.snapshot(); got.ErrorRatio != 0.1 {
		t.Errorf("ErrorRatio = %v after a rejected update, want 0.1", got.ErrorRatio)
	}
}

func TestApplyDelayedKeepsWhatTheAdminSet(t *testing.T) {
	k := newKnobs(knobSettings{FailReadiness: true})
	off := 0.0
	if _, err := k.apply(knobUpdate{ErrorRatio: &off}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	got, kept := k.applyDelayed(knobSettings{ErrorRatio: 1, Latency: 150 * time.Millisecond})
	want := knobSettings{ErrorRatio: 0, Latency: 150 * time.Millisecond, FailReadiness: true}
	if got != want {
		t.Errorf("applyDelayed() = %+v, want %+v", got, want)
	}
	if wantKept := (knobFields{ErrorRatio: true}); kept != wantKept {
		t.Errorf("applyDelayed() kept %+v, want %+v", kept, wantKept)
	}
	if now, _ := k.snapshot(); now != want {
		t.Errorf("snapshot() = %+v after applyDelayed, want %+v", now, want)
	}
}
