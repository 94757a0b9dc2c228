package drills

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Guard is a drill's own stop conditions. When one trips, the drill aborts:
// it removes its faults at once, every phase still waiting returns
// ErrStopped, and the report says which condition fired.
type Guard struct {
	// StableErrorRatio stops the drill when the stable version fails more
	// than this share of the requests it answered over StableFor: the
	// drill is hurting the version users fall back on. 0 takes 0.5; 1 or
	// more never stops.
	StableErrorRatio float64
	StableFor        time.Duration
	// MaxWall caps the whole drill, from its namespace on (0 takes 10 min).
	MaxWall time.Duration
}

// Defaults of a scenario's Guard.
const (
	DefaultStableErrorRatio = 0.5
	DefaultStableFor        = 15 * time.Second
	DefaultMaxWall          = 10 * time.Minute
)

// ErrStopped is what a phase returns once a stop condition has fired.
var ErrStopped = errors.New("drill stopped")

// guardEvery is how often the guard looks.
const guardEvery = 250 * time.Millisecond

func (g Guard) withDefaults() Guard {
	if g.StableErrorRatio == 0 {
		g.StableErrorRatio = DefaultStableErrorRatio
	}
	if g.StableFor == 0 {
		g.StableFor = DefaultStableFor
	}
	if g.MaxWall == 0 {
		g.MaxWall = DefaultMaxWall
	}
	return g
}

// validate refuses a guard that cannot work.
func (g Guard) validate() error {
	switch {
	case g.StableErrorRatio < 0:
		return fmt.Errorf("guard.stableErrorRatio %v is negative", g.StableErrorRatio)
	case g.StableFor < 0 || g.MaxWall < 0:
		return fmt.Errorf("guard durations must not be negative")
	}
	return nil
}

// guard watches the drill until its life ends and trips the first stop
// condition that holds.
func (d *Drill) guard(ctx context.Context) {
	g := d.Scenario.Guard.withDefaults()
	t := time.NewTicker(guardEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if why := d.stopCondition(g, now); why != "" {
				d.trip(why)
				return
			}
		}
	}
}

// stopCondition says which stop condition holds at now, or "".
func (d *Drill) stopCondition(g Guard, now time.Time) string {
	if now.Sub(d.t0) > g.MaxWall {
		return fmt.Sprintf("the drill ran past its %s wall-clock cap", g.MaxWall)
	}
	if g.StableErrorRatio >= 1 || now.Sub(d.injected()) < g.StableFor {
		return ""
	}
	stable := d.Scenario.Stable.Name
	var total, failed int
	for _, s := range d.observer.Settled(now) {
		if s.At.Before(now.Add(-g.StableFor)) || s.Version != stable {
			continue
		}
		total++
		if s.Failed() {
			failed++
		}
	}
	if total < int(g.StableFor.Seconds())*MinRate/4 {
		return ""
	}
	if ratio := float64(failed) / float64(total); ratio > g.StableErrorRatio {
		return fmt.Sprintf("stable %s failed %.0f%% of its %d requests over %s (limit %.0f%%)",
			stable, 100*ratio, total, g.StableFor, 100*g.StableErrorRatio)
	}
	return ""
}

// trip fires a stop condition once: it records it, removes the faults now
// rather than at cleanup, and ends the drill's background work, which makes
// every waiting phase return ErrStopped.
func (d *Drill) trip(why string) {
	d.mu.Lock()
	if d.stopped != "" {
		d.mu.Unlock()
		return
	}
	d.stopped = why
	d.mu.Unlock()
	d.record(EventStopped, time.Now(), why)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.life), d.opts.Timeouts.Cleanup)
	defer cancel()
	if err := d.recoverFaults(ctx); err != nil {
		d.record(EventMachineryError, time.Now(), "remove faults at the stop: "+err.Error())
	}
	d.stopLife()
}

// StoppedBy is the stop condition that fired, or "".
func (d *Drill) StoppedBy() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopped
}

// stopErr is ErrStopped with the condition, or nil while none fired.
func (d *Drill) stopErr() error {
	if why := d.StoppedBy(); why != "" {
		return fmt.Errorf("%w: %s", ErrStopped, why)
	}
	return nil
}
