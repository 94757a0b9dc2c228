package rollback

import (
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

func TestCheckFlagPlan(t *testing.T) {
	stable := Version{Name: "v1", Replicas: 3}
	good := Plan{Stable: stable, Canary: Version{Name: "v2", Env: map[string]string{appcontract.EnvErrorRatio: "1"}}, Detection: DetectHarness}
	if err := checkFlagPlan(good); err != nil {
		t.Fatalf("a plan the flag can express was refused: %v", err)
	}
	for name, tc := range map[string]struct {
		edit func(*Plan)
		want string
	}{
		"another image":         {func(p *Plan) { p.Canary.Image = "other:1" }, "canary.image"},
		"replicas":              {func(p *Plan) { p.Canary.Replicas = 1 }, "canary.replicas 1"},
		"a knob the path lacks": {func(p *Plan) { p.Canary.Env = map[string]string{appcontract.EnvCrashOnStart: "true"} }, "canary.env " + appcontract.EnvCrashOnStart},
		"detection":             {func(p *Plan) { p.Detection = DetectKubernetes }, "detection"},
	} {
		p := good
		p.Canary.Env = map[string]string{appcontract.EnvErrorRatio: "1"}
		tc.edit(&p)
		if err := checkFlagPlan(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %q", name, err, tc.want)
		}
	}
}

func TestWithFlagMapsTheCanaryToTheNewPath(t *testing.T) {
	f := &featureFlag{canary: Version{Name: "v2", Env: map[string]string{appcontract.EnvErrorRatio: "1", appcontract.EnvLatency: "600ms"}}}
	v := f.withFlag(Version{Name: "v1", Env: map[string]string{"KEEP": "x"}}, "http://10.96.0.9:1031")
	want := map[string]string{
		"KEEP": "x", appcontract.EnvFlagServer: "http://10.96.0.9:1031", appcontract.EnvFlagKey: appcontract.FlagKey,
		appcontract.EnvFlagOnVersion: "v2", appcontract.EnvNewPathErrorRatio: "1", appcontract.EnvNewPathLatency: "600ms",
	}
	for k, val := range want {
		if v.Env[k] != val {
			t.Errorf("env %s = %q, want %q", k, v.Env[k], val)
		}
	}
	if _, leaked := v.Env[appcontract.EnvErrorRatio]; leaked {
		t.Error("the canary's error ratio reached the old path")
	}
}

func TestFlagRollout(t *testing.T) {
	got := flagRollout(25)
	for _, want := range []string{appcontract.FlagKey + ":", "enabled: 25", "disabled: 75"} {
		if !strings.Contains(got, want) {
			t.Errorf("flagRollout(25) lacks %q:\n%s", want, got)
		}
	}
}

func TestSightingsAndChanges(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	v := flagsView{Events: []flagEvent{
		{t0.Add(-time.Second), appcontract.FlagChangedEvent},
		{t0.Add(300 * time.Millisecond), "PROVIDER_STALE"},
		{t0.Add(400 * time.Millisecond), appcontract.FlagChangedEvent},
	}}
	if at, ok := v.changedAfter(t0); !ok || !at.Equal(t0.Add(400*time.Millisecond)) {
		t.Errorf("changedAfter = %s, %v; want the change after t0, not the one before", at, ok)
	}
	seen := podSightings{"a": t0.Add(100 * time.Millisecond), "b": t0.Add(400 * time.Millisecond), "c": t0.Add(200 * time.Millisecond)}
	if !seen.last().Equal(t0.Add(400 * time.Millisecond)) {
		t.Errorf("last = %s", seen.last())
	}
	ev := seen.evidence(t0)
	if got := ev[len(ev)-1].Value; got != "p50 0.200 s, max 0.400 s over 3 pods" {
		t.Errorf("propagation = %q", got)
	}
}
