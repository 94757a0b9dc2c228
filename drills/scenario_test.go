package drills

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/kinds"
	"github.com/firedrill-dev/firedrill/rollback"
)

// validScenario is a complete canary scenario; each test case breaks one field.
func validScenario() Scenario {
	return Scenario{
		Name:      "bad-canary",
		Labels:    []string{"fault:bad-version"},
		Stable:    rollback.Version{Name: "v1", Replicas: 3, Env: map[string]string{"LOG": "info"}},
		Canary:    rollback.Version{Name: "v2", Replicas: 1, Env: map[string]string{"LOG": "debug", "MODE": "new"}},
		Fault:     CanaryFault{Kind: "bad-version", Env: map[string]string{"ERROR_RATIO": "1", "LOG": "trace"}, Onset: OnsetCanaryServesErrors},
		Detection: rollback.DetectHarness,
		SLO:       SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second},
		Budget:    time.Minute,
	}
}

// faultScenario injects a pod-kill on the canary instead of a canary-borne fault.
func faultScenario() Scenario {
	s := validScenario()
	s.Fault = CanaryFault{}
	s.Faults = []faults.Spec{{Kind: kinds.PodKill, Target: faults.TargetCanary, Start: faults.Start{When: faults.StartOnCanaryTraffic, Percent: 10}}}
	return s
}

// calibrationScenario needs only a stable version, an SLO and its outages.
func calibrationScenario() Scenario {
	return Scenario{Name: "calibrate", Stable: rollback.Version{Name: "v1", Replicas: 1},
		SLO: SLO{MaxErrorRatio: 0.05, Window: 2 * time.Second}, Calibrate: DefaultOutages}
}

func TestScenarioValidate(t *testing.T) {
	tests := []struct {
		name   string
		base   func() Scenario
		mutate func(*Scenario)
		want   []string // substrings of the error; nil when valid
	}{
		{"valid", validScenario, func(*Scenario) {}, nil},
		{"valid at the highest rate", validScenario, func(s *Scenario) { s.Rate = 2000 }, nil},
		{"valid crash onset with kubernetes detection", validScenario, func(s *Scenario) {
			s.Fault.Onset, s.Detection = OnsetCanaryCrashes, rollback.DetectKubernetes
		}, nil},
		{"valid name of 40 characters", validScenario, func(s *Scenario) { s.Name = strings.Repeat("a", 40) }, nil},

		{"uppercase name", validScenario, func(s *Scenario) { s.Name = "Bad-Canary" }, []string{"name", `"Bad-Canary"`}},
		{"name too long", validScenario, func(s *Scenario) { s.Name = strings.Repeat("a", 41) }, []string{"name", strings.Repeat("a", 41), "40"}},
		{"empty name", validScenario, func(s *Scenario) { s.Name = "" }, []string{"name", `""`}},
		{"name ending in a dash", validScenario, func(s *Scenario) { s.Name = "canary-" }, []string{"name", `"canary-"`}},
		{"name with a newline", validScenario, func(s *Scenario) { s.Name = "a\nb" }, []string{"name"}},

		{"unknown machinery", validScenario, func(s *Scenario) { s.Machinery = "psychic" }, []string{"bad-canary", "machinery", `unknown machinery "psychic"`, rollback.CanaryHook}},
		{"canary replicas under a machinery that sizes the new version", validScenario, func(s *Scenario) { s.Machinery = rollback.BlueGreen },
			[]string{"machinery " + rollback.BlueGreen, "canary.replicas 1", "leave it 0"}},
		{"the same machinery with the new version sized by it", validScenario, func(s *Scenario) { s.Machinery, s.Canary.Replicas = rollback.BlueGreen, 0 }, nil},
		{"a user-seen onset under a machinery users never reach", validScenario, func(s *Scenario) {
			s.Machinery, s.Canary.Replicas, s.Detection = rollback.Flagger, 0, rollback.DetectAnalysis
		}, []string{"onset \"canary-serves-errors\"", "users never reach the canary under flagger", "canary-test-errors"}},
		{"a test-traffic onset under the same machinery", validScenario, func(s *Scenario) {
			s.Machinery, s.Canary.Replicas, s.Detection, s.Fault.Onset = rollback.Flagger, 0, rollback.DetectAnalysis, OnsetCanaryTestErrors
		}, nil},
		{"a test-traffic onset where users reach the canary", validScenario, func(s *Scenario) { s.Fault.Onset = OnsetCanaryTestErrors },
			[]string{"onset \"canary-test-errors\"", "users reach the canary under canary-hook", "canary-serves-errors"}},
		{"a fault that reconfigures the canary's own Deployment under a one-Deployment machinery", faultScenario, func(s *Scenario) {
			s.Machinery, s.Canary.Replicas, s.Faults[0].Kind = rollback.RolloutUndo, 0, kinds.CrashLoop
		}, []string{"faults[0]", "fault crashloop", "one Deployment"}},
		{"the same fault under the default machinery", faultScenario, func(s *Scenario) { s.Faults[0].Kind = kinds.CrashLoop }, nil},
		{"unknown fault kind", faultScenario, func(s *Scenario) { s.Faults[0].Kind = "meteor" }, []string{"faults[0]", `unknown fault kind "meteor"`, "pod-kill"}},
		{"backend the kind lacks", faultScenario, func(s *Scenario) { s.Faults[0].Backend = kinds.Toxiproxy }, []string{"fault pod-kill", `backend "toxiproxy"`, "chaosmesh or native"}},
		{"graceful on a native pod-kill", faultScenario, func(s *Scenario) { s.Faults[0].Backend, s.Faults[0].Graceful = kinds.Native, true },
			[]string{"fault pod-kill", "graceful", "native backend ignores it"}},
		{"graceful on a Chaos Mesh pod-kill", faultScenario, func(s *Scenario) { s.Faults[0].Graceful = true }, nil},
		{"target on config drift", faultScenario, func(s *Scenario) {
			s.Faults[0] = faults.Spec{Kind: kinds.ConfigDrift, Target: faults.TargetCanary, Start: s.Faults[0].Start, Config: map[string]string{"ERROR_RATIO": "1"}}
		}, []string{"fault config-drift", "target", "ignores it"}},
		{"config drift without its config", faultScenario, func(s *Scenario) {
			s.Faults[0] = faults.Spec{Kind: kinds.ConfigDrift, Start: s.Faults[0].Start}
		}, []string{"fault config-drift", "config: the drift is empty"}},
		{"unknown fault target", faultScenario, func(s *Scenario) { s.Faults[0].Target = "everyone" }, []string{"fault pod-kill", `target "everyone"`}},
		{"fault start at an impossible share", faultScenario, func(s *Scenario) { s.Faults[0].Start.Percent = 101 }, []string{"fault pod-kill", "101%"}},
		{"network delay without latency", faultScenario, func(s *Scenario) {
			s.Faults[0] = faults.Spec{Kind: kinds.NetworkDelay, Target: faults.TargetCanary, Start: s.Faults[0].Start}
		},
			[]string{"fault network-delay", "latency: must be positive"}},

		{"canary equals stable", validScenario, func(s *Scenario) { s.Canary.Name = "v1" }, []string{"bad-canary", `canary version "v1"`, "stable"}},
		{"unnamed canary", validScenario, func(s *Scenario) { s.Canary.Name = "" }, []string{"bad-canary", "names"}},
		{"zero stable replicas", validScenario, func(s *Scenario) { s.Stable.Replicas = 0 }, []string{"bad-canary", "replicas"}},
		{"zero canary replicas", validScenario, func(s *Scenario) { s.Canary.Replicas = 0 }, []string{"bad-canary", "machinery " + rollback.CanaryHook, "canary.replicas 0"}},

		{"unknown onset", validScenario, func(s *Scenario) { s.Fault.Onset = "whenever" }, []string{"bad-canary", "onset", `"whenever"`}},
		{"empty onset", validScenario, func(s *Scenario) { s.Fault.Onset = "" }, []string{"onset", `""`}},
		{"empty fault kind", validScenario, func(s *Scenario) { s.Fault.Kind = "" }, []string{"bad-canary", "fault kind"}},

		{"unknown detection", validScenario, func(s *Scenario) { s.Detection = "psychic" }, []string{"bad-canary", "detection", `"psychic"`}},
		{"empty detection", validScenario, func(s *Scenario) { s.Detection = "" }, []string{"detection"}},
		{"error ratio over 1", validScenario, func(s *Scenario) { s.SLO.MaxErrorRatio = 1.5 }, []string{"bad-canary", "slo", "MaxErrorRatio", "1.5"}},
		{"no SLO window", validScenario, func(s *Scenario) { s.SLO.Window = 0 }, []string{"slo", "Window"}},

		{"zero budget", validScenario, func(s *Scenario) { s.Budget = 0 }, []string{"bad-canary", "MTTR budget", "0s"}},
		{"negative budget", validScenario, func(s *Scenario) { s.Budget = -time.Second }, []string{"MTTR budget", "-1s"}},
		{"negative rate", validScenario, func(s *Scenario) { s.Rate = -1 }, []string{"bad-canary", "rate", "-1"}},
		{"rate too high", validScenario, func(s *Scenario) { s.Rate = 2001 }, []string{"rate", "2001"}},
		{"rate under 20 Hz", validScenario, func(s *Scenario) { s.Rate = 10 }, []string{"bad-canary", "rate 10 Hz", "want 20..2000"}},
		{"valid at the lowest rate", validScenario, func(s *Scenario) { s.Rate, s.SLO.Window = 20, time.Second }, nil},

		{"an SLO that cannot fail", validScenario, func(s *Scenario) { s.SLO.MaxErrorRatio = 1 },
			[]string{"bad-canary", "slo.maxErrorRatio 1", "can never fail"}},
		{"an SLO that fails on latency only", validScenario, func(s *Scenario) { s.SLO.MaxErrorRatio, s.SLO.MaxP99 = 1, 200*time.Millisecond }, nil},
		{"a window of fewer than 20 requests", validScenario, func(s *Scenario) { s.SLO.Window = 300 * time.Millisecond },
			[]string{"bad-canary", "slo.window 300ms", "15 requests at 50 Hz", "at least 20"}},
		{"the same window at a higher rate", validScenario, func(s *Scenario) { s.SLO.Window, s.Rate = 300*time.Millisecond, 100 }, nil},
		{"unknown expect", validScenario, func(s *Scenario) { s.Expect = "miracle" }, []string{"bad-canary", `expect "miracle"`, "steady"}},
		{"hold the SLO in a rollback drill", validScenario, func(s *Scenario) { s.HoldSLO = true }, []string{"bad-canary", "holdSLO", "steady"}},
		{"an error-budget limit of 100 %", validScenario, func(s *Scenario) { s.MaxErrorBudget = 1 }, []string{"bad-canary", "maxErrorBudget 1"}},
		{"an error-budget limit", validScenario, func(s *Scenario) { s.MaxErrorBudget = 0.2 }, nil},
		{"a start share the canary never gets", faultScenario, func(s *Scenario) { s.Faults[0].Start.Percent = 30 },
			[]string{"bad-canary", "faults[0].start.percent 30", rollback.CanaryHook, "at most 25%"}},
		{"the canary's whole share", faultScenario, func(s *Scenario) { s.Faults[0].Start.Percent = 25 }, nil},

		{"calibration needs no canary, fault or budget", calibrationScenario, func(*Scenario) {}, nil},
		{"calibration of 10m", calibrationScenario, func(s *Scenario) { s.Calibrate = []Outage{{10 * time.Minute, 1}} }, nil},
		{"calibration with an SLO that cannot fail", calibrationScenario, func(s *Scenario) { s.SLO.MaxErrorRatio = 1 }, []string{"calibrate", "can never fail"}},
		{"calibration with no failing share", calibrationScenario, func(s *Scenario) { s.Calibrate = []Outage{{time.Second, 0}} }, []string{"calibrate[0]", "ratio in (0, 1]"}},
		{"calibration without a stable name", calibrationScenario, func(s *Scenario) { s.Stable.Name = "" }, []string{"calibrate", "calibration", "stable"}},
		{"calibration without stable replicas", calibrationScenario, func(s *Scenario) { s.Stable.Replicas = 0 }, []string{"calibration", "replica"}},
		{"calibration over 10m", calibrationScenario, func(s *Scenario) { s.Calibrate = []Outage{{11 * time.Minute, 1}} }, []string{"calibrate[0]", "11m0s", "10m"}},
		{"calibration still checks the name", calibrationScenario, func(s *Scenario) { s.Name = "Calibrate" }, []string{"name", `"Calibrate"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.base()
			tt.mutate(&s)
			err := s.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("Validate() error spans lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Validate() = %q, want it to contain %q", msg, w)
				}
			}
		})
	}
}

func TestCanaryVersionMergesFaultEnv(t *testing.T) {
	s := validScenario()
	canaryEnv, faultEnv := maps.Clone(s.Canary.Env), maps.Clone(s.Fault.Env)

	got := s.canaryVersion()

	want := map[string]string{"LOG": "trace", "MODE": "new", "ERROR_RATIO": "1"}
	if !maps.Equal(got.Env, want) {
		t.Errorf("canaryVersion().Env = %v, want %v (fault env over canary env)", got.Env, want)
	}
	if got.Name != s.Canary.Name || got.Replicas != s.Canary.Replicas {
		t.Errorf("canaryVersion() = %s x%d, want %s x%d", got.Name, got.Replicas, s.Canary.Name, s.Canary.Replicas)
	}
	if !maps.Equal(s.Canary.Env, canaryEnv) || !maps.Equal(s.Fault.Env, faultEnv) {
		t.Errorf("canaryVersion() changed the scenario: canary env %v, fault env %v", s.Canary.Env, s.Fault.Env)
	}
	got.Env["LOG"] = "changed"
	if s.Canary.Env["LOG"] != "debug" || s.Fault.Env["LOG"] != "trace" {
		t.Errorf("canaryVersion().Env aliases the scenario's maps")
	}
}

func TestCanaryVersionWithoutEnv(t *testing.T) {
	s := validScenario()
	s.Canary.Env, s.Fault.Env = nil, nil
	if got := s.canaryVersion().Env; len(got) != 0 {
		t.Errorf("canaryVersion().Env = %v, want empty", got)
	}
}
