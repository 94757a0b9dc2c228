package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// startServing runs serve on loopback ports and returns the user URL, a
// cancel func standing for SIGTERM, and the channel that receives serve's
// result.
func startServing(t *testing.T, a *app, d drainTimes) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	var lc net.ListenConfig
	user, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, sigterm := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, a.logger, a, user, admin, d) }()
	return "http://" + user.Addr().String(), sigterm, done
}

// inFlight reads how many user requests the app is serving.
func inFlight(t *testing.T, a *app) float64 {
	t.Helper()
	var m dto.Metric
	if err := a.metrics.inFlight.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type answer struct {
	code int
	body string
	err  error
}

func get(url string) answer {
	resp, err := http.Get(url)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, body: string(body), err: err}
}

func TestGracefulDrainFinishesInFlightRequest(t *testing.T) {
	a := newTestApp(t, knobSettings{Latency: time.Second})
	url, sigterm, done := startServing(t, a, drainTimes{Delay: 300 * time.Millisecond, Timeout: 20 * time.Second})

	slow := make(chan answer, 1)
	go func() { slow <- get(url + "/") }()
	waitFor(t, "the slow request to be in flight", func() bool { return inFlight(t, a) == 1 })

	sigterm()
	waitFor(t, "readiness to fail", func() bool {
		return get(url+"/readyz").code == http.StatusServiceUnavailable
	})

	got := <-slow
	if got.err != nil || got.code != http.StatusOK || got.body != "version="+testVersion+"\n" {
		t.Errorf("in-flight request got %d %q %v, want 200 %q", got.code, got.body, got.err, "version="+testVersion+"\n")
	}
	if err := <-done; err != nil {
		t.Errorf("serve() = %v, want nil after a complete drain", err)
	}
	if got := get(url + "/healthz"); got.err == nil {
		t.Errorf("GET /healthz after the drain = %d, want a connection error", got.code)
	}
}

func TestDrainTimeoutIsAnError(t *testing.T) {
	a := newTestApp(t, knobSettings{Latency: time.Minute})
	url, sigterm, done := startServing(t, a, drainTimes{Delay: 0, Timeout: 100 * time.Millisecond})

	slow := make(chan answer, 1)
	go func() { slow <- get(url + "/") }()
	waitFor(t, "the slow request to be in flight", func() bool { return inFlight(t, a) == 1 })

	sigterm()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "DRAIN_TIMEOUT") {
		t.Errorf("serve() = %v, want an error naming DRAIN_TIMEOUT", err)
	}
	if got := <-slow; got.err == nil {
		t.Errorf("request cut by the timeout got %d, want a connection error", got.code)
	}
}
