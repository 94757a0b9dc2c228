package faults

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeNode answers commands like a node would, from a table of outputs.
type fakeNode struct {
	netemErr bool
	cgroupFS string
	ran      []string
}

func (f *fakeNode) exec(_ context.Context, args ...string) (string, error) {
	cmd := strings.Join(args, " ")
	f.ran = append(f.ran, cmd)
	switch {
	case strings.HasPrefix(cmd, "tc ") && f.netemErr:
		return "Error: Specified qdisc kind is unknown.\n", errors.New("exit status 2")
	case strings.HasPrefix(cmd, "stat "):
		return f.cgroupFS + "\n", nil
	}
	return "", nil
}

func TestProbeRestrictedHost(t *testing.T) {
	node := &fakeNode{netemErr: true, cgroupFS: "tmpfs"}
	c, err := Probe(t.Context(), node.exec)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := c.Skip(KindNetworkChaos); !ok || !strings.Contains(r, "Specified qdisc kind is unknown") {
		t.Errorf("NetworkChaos skip = %q, %v; want the tc error as reason", r, ok)
	}
	if r, ok := c.Skip(KindStressChaos); !ok || !strings.Contains(r, "cgroup v1") {
		t.Errorf("StressChaos skip = %q, %v; want a cgroup v1 reason", r, ok)
	}
	if last := node.ran[len(node.ran)-1]; last != "stat -fc %T /sys/fs/cgroup" {
		t.Errorf("last command %q", last)
	}
	if !slices.Contains(node.ran, "ip netns del "+probeNetns) {
		t.Errorf("scratch namespace not removed; ran %q", node.ran)
	}
}

func TestProbeCapableHost(t *testing.T) {
	c, err := Probe(t.Context(), (&fakeNode{cgroupFS: "cgroup2fs"}).exec)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{KindNetworkChaos, KindStressChaos} {
		if r, ok := c.Skip(kind); ok {
			t.Errorf("%s skipped on a capable host: %s", kind, r)
		}
	}
	for _, kind := range []string{KindHTTPChaos, KindIOChaos} {
		if r, ok := c.Skip(kind); !ok || r == "" {
			t.Errorf("%s not skipped with a reason", kind)
		}
	}
}

func TestProbeExecFailure(t *testing.T) {
	failing := func(context.Context, ...string) (string, error) { return "", errors.New("no such container") }
	if _, err := Probe(t.Context(), failing); err == nil || !strings.Contains(err.Error(), "scratch network namespace") {
		t.Errorf("Probe error = %v, want one naming the scratch namespace step", err)
	}
}

func TestTargetHits(t *testing.T) {
	for _, tt := range []struct {
		target         Target
		canary, stable bool
	}{{TargetCanary, true, false}, {TargetStable, false, true}, {TargetBoth, true, true}} {
		if err := tt.target.Validate(); err != nil {
			t.Errorf("%s.Validate() = %v", tt.target, err)
		}
		if tt.target.Hits(true) != tt.canary || tt.target.Hits(false) != tt.stable {
			t.Errorf("%s hits canary %v, stable %v; want %v, %v", tt.target, tt.target.Hits(true), tt.target.Hits(false), tt.canary, tt.stable)
		}
	}
	if err := Target("all").Validate(); err == nil || !strings.Contains(err.Error(), `"all"`) {
		t.Errorf("unknown target: Validate() = %v, want it named", err)
	}
}

// fakeFault confirms onset after a fixed delay, or fails.
type fakeFault struct {
	delay time.Duration
	err   error
}

func (f fakeFault) Name() string    { return "pod-kill" }
func (f fakeFault) Backend() string { return "native" }
func (f fakeFault) Inject(context.Context) (time.Time, error) {
	if f.err != nil {
		return time.Time{}, f.err
	}
	time.Sleep(f.delay)
	return time.Now(), nil
}
func (f fakeFault) Recover(context.Context) error { return nil }
func (f fakeFault) Verify(context.Context) error  { return nil }

func TestBracketRecordsTimings(t *testing.T) {
	rec, err := Bracket(t.Context(), fakeFault{delay: 20 * time.Millisecond}, TargetCanary)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != "pod-kill" || rec.Backend != "native" || rec.Target != "canary" {
		t.Errorf("record = %+v", rec)
	}
	if lat := time.Duration(rec.InjectionLatency); lat < 20*time.Millisecond || !rec.Confirmed.After(rec.Injected) {
		t.Errorf("injection latency %s, injected %s, confirmed %s", lat, rec.Injected, rec.Confirmed)
	}
	_, err = Bracket(t.Context(), fakeFault{err: errors.New("forbidden")}, TargetCanary)
	if err == nil || !strings.Contains(err.Error(), "inject pod-kill (native): forbidden") {
		t.Errorf("Bracket error = %v", err)
	}
}
