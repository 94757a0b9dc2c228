package main

import (
	"fmt"
	"sync"
	"time"
)

// knobSettings are the faults a drill can turn on. They start from the
// environment (ErrorRatio and Latency possibly FAULT_AFTER later) and change
// through POST /admin/knobs.
type knobSettings struct {
	ErrorRatio    float64
	Latency       time.Duration
	FailReadiness bool
}

// outage is a window in which user requests fail: every one, or a random
// Ratio of them. Start and End come from time.Now, so comparisons use the
// monotonic clock and a wall-clock step cannot stretch or shorten a
// calibration outage.
type outage struct {
	Start time.Time
	End   time.Time
	Ratio float64
}

// active reports whether t falls in the outage.
func (o outage) active(t time.Time) bool {
	return !t.Before(o.Start) && t.Before(o.End)
}

// fails reports whether a request that arrived at t fails in the outage;
// draw is a uniform random number in [0, 1).
func (o outage) fails(t time.Time, draw float64) bool {
	return o.active(t) && draw < o.Ratio
}

// knobs holds the live fault settings. A mutex guards them because user
// requests read them while admin requests and the FAULT_AFTER timer write
// them.
type knobs struct {
	mu       sync.Mutex
	settings knobSettings
	outage   outage
	// adminSet records the knobs that POST /admin/knobs has set, so that
	// faults delayed by FAULT_AFTER never overwrite what a drill chose since.
	adminSet knobFields
}

// knobFields names the knobs that FAULT_AFTER delays.
type knobFields struct {
	ErrorRatio bool
	Latency    bool
}

func newKnobs(s knobSettings) *knobs {
	return &knobs{settings: s}
}

// snapshot returns the settings and the latest outage together, so that one
// request sees one consistent state.
func (k *knobs) snapshot() (knobSettings, outage) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.settings, k.outage
}

// knobUpdate is the body of POST /admin/knobs. Pointer fields tell an absent
// field from a zero one, so a drill can change one knob and keep the others.
type knobUpdate struct {
	ErrorRatio    *float64 `json:"errorRatio"`
	Latency       *string  `json:"latency"`
	FailReadiness *bool    `json:"failReadiness"`
}

// apply validates every field present in u before changing anything, so a
// bad request leaves the knobs as they were. It returns the new settings.
func (k *knobs) apply(u knobUpdate) (knobSettings, error) {
	if u.ErrorRatio != nil {
		if err := checkRatio(*u.ErrorRatio); err != nil {
			return knobSettings{}, err
		}
	}
	var latency time.Duration
	if u.Latency != nil {
		d, err := parseNonNegativeDuration(*u.Latency)
		if err != nil {
			return knobSettings{}, fmt.Errorf("latency %q: %w", *u.Latency, err)
		}
		latency = d
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if u.ErrorRatio != nil {
		k.settings.ErrorRatio = *u.ErrorRatio
		k.adminSet.ErrorRatio = true
	}
	if u.Latency != nil {
		k.settings.Latency = latency
		k.adminSet.Latency = true
	}
	if u.FailReadiness != nil {
		k.settings.FailReadiness = *u.FailReadiness
	}
	return k.settings, nil
}

// applyDelayed sets ErrorRatio and Latency from env, the faults that
// FAULT_AFTER held back, except those the admin API has set since start: the
// admin API takes precedence, because a drill that changed a knob meant it.
// It returns the new settings and which knobs the admin API kept.
func (k *knobs) applyDelayed(env knobSettings) (knobSettings, knobFields) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.adminSet.ErrorRatio {
		k.settings.ErrorRatio = env.ErrorRatio
	}
	if !k.adminSet.Latency {
		k.settings.Latency = env.Latency
	}
	return k.settings, k.adminSet
}

// startOutage replaces any earlier outage with one of length d that starts
// now and fails ratio of the requests, and returns it.
func (k *knobs) startOutage(d time.Duration, ratio float64) outage {
	start := time.Now()
	o := outage{Start: start, End: start.Add(d), Ratio: ratio}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.outage = o
	return o
}
