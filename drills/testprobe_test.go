package drills

import (
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Under a machinery that gives users none of the canary, one user answer
// from it after its start fails the drill, whatever else passed; answers
// before the canary started do not count.
func TestCanaryUnseen(t *testing.T) {
	s := Scenario{Name: "x", Machinery: rollback.Flagger, Stable: rollback.Version{Name: "v1"}, Canary: rollback.Version{Name: "v2"}, Budget: 45 * time.Second}
	d := &Drill{Scenario: s, t0: at(0)}
	d.record(EventCanaryStarted, at(10), "")
	samples := []Sample{{At: at(5), Version: "v2", Status: 200}, {At: at(11), Version: "v1", Status: 200}, {At: at(12), Version: "v1", Status: 200}}
	if unseen, seen := d.canaryUnseen(samples); unseen != "v2 answered 0 of 2 user requests from its start on" || seen != "" {
		t.Errorf("canaryUnseen = %q, %q; want 0 of 2, not seen", unseen, seen)
	}
	samples = append(samples, Sample{At: at(13), Version: "v2", Status: 200})
	_, seen := d.canaryUnseen(samples)
	if want := "users saw v2 although flagger gives them none of the canary: v2 answered 1 of 3 user requests from its start on"; seen != want {
		t.Fatalf("seen = %q, want %q", seen, want)
	}
	res := Result{MTTR: &reports.MTTR{Total: reports.Duration(time.Second)}, ServedAfter: "v1", Serving: rollback.Serving{Versions: []string{"v1"}}}
	if verdict, why := Judge(res, s, rollback.Flagger); verdict != reports.VerdictPass {
		t.Fatalf("unseen: Judge = %s, %q; want pass", verdict, why)
	}
	res.Seen = seen
	if verdict, why := Judge(res, s, rollback.Flagger); verdict != reports.VerdictFail || why != seen {
		t.Errorf("seen: Judge = %s, %q; want fail, %q", verdict, why, seen)
	}
}

// The pods at the canary's start and the peak until restored; a pod seen
// after restored does not count.
func TestPodCounter(t *testing.T) {
	c := &podCounter{pods: map[string]bool{}}
	c.see("ADDED", "a")
	c.see("ADDED", "b")
	from := time.Now()
	time.Sleep(time.Millisecond)
	c.see("ADDED", "c")
	c.see("MODIFIED", "c")
	c.see("DELETED", "c")
	to := time.Now()
	time.Sleep(time.Millisecond)
	c.see("ADDED", "d")
	c.see("ADDED", "e")
	if at, peak := c.between(from, to); at != 2 || peak != 3 {
		t.Errorf("between = %d, %d; want 2 at the start, 3 at most", at, peak)
	}
}

func TestBadShare(t *testing.T) {
	samples := []Sample{{At: at(0), Version: "v2"}, {At: at(time.Second), Version: "v2"}, {At: at(2 * time.Second), Version: "v1"}, {At: at(5 * time.Second), Version: "v2"}}
	if s := badShare(samples, "v2", at(time.Second), at(3*time.Second)); s.Served != 1 || s.Total != 2 || s.Fraction != 0.5 {
		t.Errorf("badShare = %+v, want 1 of 2", s)
	}
}
