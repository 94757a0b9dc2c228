// Package drills is the firedrill engine: it turns a Scenario into a Drill
// run against one cluster and judges the result.
//
// It holds the Scenario and Drill types, the runner that deploys, injects
// faults and waits on the rollback machinery, the Timeline of timestamped
// events (onset, detected, decided, actuated, restored), the Observer that
// sends real user traffic at a fixed rate, the SLO evaluation over that
// traffic, the MTTR computation with its phase split and error budget, and
// gomega matchers for specs to assert with.
//
// The analysis parts (SLO, Analyze, ComputeMTTR) are pure functions of
// recorded samples and timeline marks, so they are unit-tested on synthetic
// request streams and give the same answer when a report is recomputed.
// Library code returns errors; only specs assert.
package drills
