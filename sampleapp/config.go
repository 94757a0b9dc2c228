package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// config is everything sampleapp reads from the environment at start.
// FaultAfter holds back ErrorRatio and Latency of Knobs for that long after
// start; zero applies them at once.
type config struct {
	Version      string
	Port         int
	AdminPort    int
	Knobs        knobSettings
	FaultAfter   time.Duration
	CrashOnStart bool
	Drain        drainTimes
	// Flags is set when FLAG_SERVER is.
	Flags *flagConfig
}

// loadConfig reads the configuration through getenv. An empty variable counts
// as unset. The error names the first invalid variable and its value, on one
// line, because it is the last thing the pod logs before it exits.
func loadConfig(getenv func(string) string) (config, error) {
	r := envReader{getenv: getenv}
	cfg := config{
		Version:   r.text(appcontract.EnvVersion, "dev"),
		Port:      r.port(appcontract.EnvPort, appcontract.UserPort),
		AdminPort: r.port(appcontract.EnvAdminPort, appcontract.AdminPort),
		Knobs: knobSettings{
			ErrorRatio:    r.ratio(appcontract.EnvErrorRatio),
			Latency:       r.duration(appcontract.EnvLatency, 0),
			FailReadiness: r.boolean(appcontract.EnvFailReadiness),
		},
		FaultAfter:   r.duration(appcontract.EnvFaultAfter, 0),
		CrashOnStart: r.boolean(appcontract.EnvCrashOnStart),
		Drain: drainTimes{
			Delay:   r.duration(appcontract.EnvDrainDelay, 2*time.Second),
			Timeout: r.duration(appcontract.EnvDrainTimeout, 10*time.Second),
		},
	}
	if server := getenv(appcontract.EnvFlagServer); server != "" {
		cfg.Flags = &flagConfig{
			Server: server, Key: r.text(appcontract.EnvFlagKey, appcontract.FlagKey),
			OnVersion: r.text(appcontract.EnvFlagOnVersion, cfg.Version+"-new-path"),
			Poll:      r.duration(appcontract.EnvFlagPoll, 250*time.Millisecond),
			NewPath: knobSettings{
				ErrorRatio: r.ratio(appcontract.EnvNewPathErrorRatio),
				Latency:    r.duration(appcontract.EnvNewPathLatency, 0),
			},
		}
	}
	if cfg.AdminPort == cfg.Port {
		r.fail(appcontract.EnvAdminPort, strconv.Itoa(cfg.AdminPort), "must differ from "+appcontract.EnvPort)
	}
	if cfg.Drain.Timeout == 0 {
		r.fail(appcontract.EnvDrainTimeout, getenv(appcontract.EnvDrainTimeout), "want a positive duration")
	}
	return cfg, r.err
}

// envReader parses environment variables and keeps the first error, so that
// loadConfig reads as a list of variables rather than a ladder of if err.
type envReader struct {
	getenv func(string) string
	err    error
}

// fail records why the value of name is invalid, unless an earlier variable
// already failed.
func (r *envReader) fail(name, value, why string) {
	if r.err == nil {
		r.err = fmt.Errorf("invalid %s=%q: %s", name, value, why)
	}
}

func (r *envReader) text(name, def string) string {
	if v := r.getenv(name); v != "" {
		return v
	}
	return def
}

func (r *envReader) port(name string, def int) int {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > math.MaxUint16 {
		r.fail(name, v, "want a port number from 1 to 65535")
		return def
	}
	return p
}

func (r *envReader) ratio(name string) float64 {
	v := r.getenv(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err == nil {
		err = checkRatio(f)
	}
	if err != nil {
		r.fail(name, v, "want a number from 0 to 1")
		return 0
	}
	return f
}

func (r *envReader) duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := parseNonNegativeDuration(v)
	if err != nil {
		r.fail(name, v, err.Error())
		return def
	}
	return d
}

func (r *envReader) boolean(name string) bool {
	v := r.getenv(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "want true or false")
		return false
	}
	return b
}

// checkRatio accepts a fraction of requests. It is shared by the environment
// and the admin API so that both reject the same values.
func checkRatio(f float64) error {
	if !(f >= 0 && f <= 1) {
		return fmt.Errorf("error ratio %v is not a number from 0 to 1", f)
	}
	return nil
}

// parseNonNegativeDuration parses a Go duration such as "250ms" and rejects
// negative ones, which would mean nothing as a latency, a fault delay or a
// drain time.
func parseNonNegativeDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want a non-negative Go duration such as 250ms")
	}
	return d, nil
}
