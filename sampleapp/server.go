package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// app holds the state shared by the user and admin handlers. Tests drive its
// handlers directly, without binding ports.
type app struct {
	version  string
	knobs    *knobs
	metrics  *metrics
	logger   *slog.Logger
	draining atomic.Bool
	// random returns a number in [0, 1) to decide which requests fail.
	random func() float64
	// faultTimer applies the faults that FAULT_AFTER holds back; nil when
	// nothing is held back.
	faultTimer *time.Timer
	// flags evaluates the feature flag; nil without a flag server.
	flags *flags
}

// newApp builds the app. With FAULT_AFTER set, ErrorRatio and Latency start
// at zero and take their configured values FAULT_AFTER from now: a version
// that passes its smoke check and goes bad later.
func newApp(cfg config, logger *slog.Logger) *app {
	initial := cfg.Knobs
	delayed := cfg.FaultAfter > 0 && (initial.ErrorRatio > 0 || initial.Latency > 0)
	if delayed {
		initial.ErrorRatio, initial.Latency = 0, 0
	}
	a := &app{
		version: cfg.Version,
		knobs:   newKnobs(initial),
		metrics: newMetrics(cfg.Version),
		logger:  logger,
		random:  rand.Float64,
	}
	if delayed {
		logger.Info("faults held back until "+appcontract.EnvFaultAfter+" elapses", "faultAfter", cfg.FaultAfter,
			"errorRatio", cfg.Knobs.ErrorRatio, "latency", cfg.Knobs.Latency)
		a.faultTimer = time.AfterFunc(cfg.FaultAfter, func() { a.applyDelayedFaults(cfg.Knobs) })
	}
	return a
}

// applyDelayedFaults is the FAULT_AFTER timer: it turns on the faults from
// the environment, except those the admin API has set in the meantime.
func (a *app) applyDelayedFaults(env knobSettings) {
	s, kept := a.knobs.applyDelayed(env)
	a.logger.Info(appcontract.EnvFaultAfter+" elapsed: faults applied", "errorRatio", s.ErrorRatio, "latency", s.Latency,
		"adminKeptErrorRatio", kept.ErrorRatio, "adminKeptLatency", kept.Latency)
}

// startDraining makes readiness fail and asks clients to close their
// connections, so that traffic moves to other pods before Shutdown.
func (a *app) startDraining() {
	a.draining.Store(true)
}

// userHandler serves the port that the Service exposes.
func (a *app) userHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", a.metrics.instrument(http.HandlerFunc(a.serveRoot)))
	mux.HandleFunc("GET /healthz", a.serveHealthz)
	mux.HandleFunc("GET "+appcontract.PathReady, a.serveReadyz)
	mux.HandleFunc("GET /version", a.serveVersion)
	mux.HandleFunc("GET "+appcontract.PathTime, a.serveTime)
	mux.Handle("GET /metrics", a.metrics.handler())
	return a.withUserHeaders(mux)
}

// withUserHeaders sets X-App-Version on every answer, errors included, so the
// observer knows which version answered. While draining it also sets
// Connection: close: a keep-alive connection would otherwise stay pinned to
// this pod after the endpoints controller removed it, and be cut at Shutdown.
func (a *app) withUserHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(appcontract.VersionHeader, a.version)
		if a.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// serveRoot is the user request that the observer measures. Whether it fails
// is decided when it arrives, so an outage covers exactly the requests that
// arrive within it, whatever the injected latency.
func (a *app) serveRoot(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	settings, out := a.knobs.snapshot()
	settings, version := a.path(r, settings)
	w.Header().Set(appcontract.VersionHeader, version)
	fail := out.fails(arrived, a.random()) || a.random() < settings.ErrorRatio
	if !sleep(r.Context(), settings.Latency) {
		return
	}
	if fail {
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "version=%s\n", version)
}

// sleep waits for d and reports false if the client went away first, so that
// a large latency knob does not pile up goroutines for abandoned requests.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// serveHealthz answers 200 while the process runs: liveness must not fail
// on a fault knob, or the kubelet would restart the pod and hide the fault.
func (a *app) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveReadyz fails when FAIL_READINESS is set or while draining, which takes
// the pod out of the Service endpoints.
func (a *app) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	settings, _ := a.knobs.snapshot()
	switch {
	case a.draining.Load():
		http.Error(w, "not ready: draining", http.StatusServiceUnavailable)
	case settings.FailReadiness:
		http.Error(w, "not ready: "+appcontract.EnvFailReadiness, http.StatusServiceUnavailable)
	default:
		fmt.Fprintln(w, "ready")
	}
}

func (a *app) serveVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": a.version})
}

// serveTime answers the app's own clock, so a drill can see a clock fault
// (TimeChaos) on the data plane rather than trust that it was injected.
func (a *app) serveTime(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"time": time.Now().UTC().Format(time.RFC3339Nano)})
}

// writeJSON writes v as the answer. An encoding error can only come from a
// client that went away, and nobody is left to tell.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
