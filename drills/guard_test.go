package drills

import (
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/rollback"
)

// The guard trips when the stable version fails more than its limit over
// its window, or when the drill outlives its wall-clock cap; failures of
// the canary, or of no version, never trip the stable guard.
func TestStopCondition(t *testing.T) {
	o := &Observer{cfg: ObserverConfig{Rate: 50, Timeout: time.Second}}
	d := &Drill{Scenario: Scenario{Stable: rollback.Version{Name: "v1"}, Canary: rollback.Version{Name: "v2"}}, observer: o, t0: at(0)}
	d.record(EventCanaryStarted, at(0), "")
	for off := time.Duration(0); off < 40*time.Second; off += hz50 {
		s := Sample{At: at(off), Latency: 2 * time.Millisecond, Status: 200, Version: "v1"}
		switch n := int(off / hz50); {
		case off >= 20*time.Second && n%10 < 6: // 60% of stable's answers fail
			s.Status = 500
		case n%4 == 0: // the canary fails throughout
			s.Version, s.Status = "v2", 500
		case off < 20*time.Second && n%4 == 1: // requests that reached no version
			s.Version, s.Status, s.Err = "", 0, "connection refused"
		}
		o.record(s)
	}
	g := Guard{}.withDefaults()
	if why := d.stopCondition(g, at(19*time.Second)); why != "" {
		t.Errorf("before the stable version fails: %q, want none", why)
	}
	why := d.stopCondition(g, at(38*time.Second))
	if !strings.HasPrefix(why, "stable v1 failed ") || !strings.HasSuffix(why, "over 15s (limit 50%)") {
		t.Errorf("stable failing: %q, want the stable guard", why)
	}
	off := g
	off.StableErrorRatio = 1
	if why := d.stopCondition(off, at(38*time.Second)); why != "" {
		t.Errorf("guard off: %q, want none", why)
	}
	capped := off
	capped.MaxWall = 30 * time.Second
	if why := d.stopCondition(capped, at(38*time.Second)); why != "the drill ran past its 30s wall-clock cap" {
		t.Errorf("past the cap: %q", why)
	}
}
