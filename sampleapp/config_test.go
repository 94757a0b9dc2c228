package main

import (
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(envFrom(nil))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := config{
		Version:   "dev",
		Port:      8080,
		AdminPort: 9090,
		Drain:     drainTimes{Delay: 2 * time.Second, Timeout: 10 * time.Second},
	}
	if cfg != want {
		t.Errorf("loadConfig() = %+v, want %+v", cfg, want)
	}
}

func TestLoadConfigReadsEveryVariable(t *testing.T) {
	cfg, err := loadConfig(envFrom(map[string]string{
		"VERSION":        "v2",
		"PORT":           "8081",
		"ADMIN_PORT":     "9091",
		"ERROR_RATIO":    "0.25",
		"LATENCY":        "150ms",
		"CRASH_ON_START": "true",
		"FAIL_READINESS": "1",
		"FAULT_AFTER":    "20s",
		"DRAIN_DELAY":    "0s",
		"DRAIN_TIMEOUT":  "30s",
	}))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := config{
		Version:      "v2",
		Port:         8081,
		AdminPort:    9091,
		Knobs:        knobSettings{ErrorRatio: 0.25, Latency: 150 * time.Millisecond, FailReadiness: true},
		FaultAfter:   20 * time.Second,
		CrashOnStart: true,
		Drain:        drainTimes{Delay: 0, Timeout: 30 * time.Second},
	}
	if cfg != want {
		t.Errorf("loadConfig() = %+v, want %+v", cfg, want)
	}
}

func TestLoadConfigErrorNamesVariableAndValue(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"PORT", "http"},
		{"PORT", "0"},
		{"ADMIN_PORT", "65536"},
		{"ADMIN_PORT", "8080"},
		{"ERROR_RATIO", "half"},
		{"ERROR_RATIO", "1.5"},
		{"ERROR_RATIO", "-0.1"},
		{"ERROR_RATIO", "NaN"},
		{"LATENCY", "fast"},
		{"LATENCY", "-1s"},
		{"CRASH_ON_START", "maybe"},
		{"FAIL_READINESS", "yes please"},
		{"FAULT_AFTER", "30"},
		{"FAULT_AFTER", "-5s"},
		{"DRAIN_DELAY", "2"},
		{"DRAIN_TIMEOUT", "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadConfig(envFrom(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatal("loadConfig accepted the value")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.name+"=") || !strings.Contains(msg, tt.value) {
				t.Errorf("error %q does not name %s and %q", msg, tt.name, tt.value)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans several lines", msg)
			}
		})
	}
}

func TestRunCrashOnStartExitsBeforeListening(t *testing.T) {
	env := envFrom(map[string]string{"CRASH_ON_START": "true", "PORT": "1", "ADMIN_PORT": "2"})
	err := run(t.Context(), newTestApp(t, knobSettings{}).logger, env)
	if err != errCrashOnStart {
		t.Errorf("run() = %v, want %v", err, errCrashOnStart)
	}
}
