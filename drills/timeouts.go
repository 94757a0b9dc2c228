package drills

import "time"

// Timeouts bound each phase of a drill, named by purpose so that specs never
// carry bare durations.
type Timeouts struct {
	// Namespace bounds creating the drill namespace.
	Namespace time.Duration
	// StableReady bounds deploying the stable version until its pods are Ready.
	StableReady time.Duration
	// SteadyState bounds waiting for the SLO to hold on the stable version.
	SteadyState time.Duration
	// SteadyWindow is how long the stable version must serve cleanly.
	SteadyWindow time.Duration
	// Onset bounds waiting for the fault's onset to be confirmed.
	Onset time.Duration
	// Rollback bounds waiting for the machinery to decide and actuate.
	Rollback time.Duration
	// Restore bounds waiting for the SLO to hold for the stability window
	// after the rollback.
	Restore time.Duration
	// Cleanup bounds deleting the namespace and waiting until it is gone.
	Cleanup time.Duration
}

// DefaultTimeouts suit a single-node kind cluster on a 2-core machine.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Namespace:    30 * time.Second,
		StableReady:  2 * time.Minute,
		SteadyState:  time.Minute,
		SteadyWindow: 3 * time.Second,
		Onset:        2 * time.Minute,
		Rollback:     3 * time.Minute,
		Restore:      2 * time.Minute,
		Cleanup:      2 * time.Minute,
	}
}

// Total is the longest a whole drill may take, for spec timeouts.
func (t Timeouts) Total() time.Duration {
	return t.Namespace + t.StableReady + t.SteadyState + t.Onset + t.Rollback + t.Restore + t.Cleanup
}
