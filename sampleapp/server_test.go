package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRootAnswersVersion(t *testing.T) {
	w := call(newTestApp(t, knobSettings{}).userHandler(), http.MethodGet, "/", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", w.Code)
	}
	if got, want := w.Body.String(), "version="+testVersion+"\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if got := w.Header().Get("X-App-Version"); got != testVersion {
		t.Errorf("X-App-Version = %q, want %q", got, testVersion)
	}
}

func TestErrorRatioExtremes(t *testing.T) {
	tests := []struct {
		ratio    float64
		wantCode int
	}{
		{0, http.StatusOK},
		{1, http.StatusInternalServerError},
	}
	const n = 500
	for _, tt := range tests {
		h := newTestApp(t, knobSettings{ErrorRatio: tt.ratio}).userHandler()
		codes := countCodes(t, h, n)
		if codes[tt.wantCode] != n {
			t.Errorf("ERROR_RATIO=%v: codes %v, want all %d", tt.ratio, codes, tt.wantCode)
		}
	}
}

func TestErrorRatioHalf(t *testing.T) {
	// With p = 0.5 and n = 2000 the standard deviation is about 22, so a
	// tolerance of 150 is almost seven of them: a failure is a bug, not bad luck.
	const n, tolerance = 2000, 150
	h := newTestApp(t, knobSettings{ErrorRatio: 0.5}).userHandler()
	codes := countCodes(t, h, n)
	if codes[http.StatusOK]+codes[http.StatusInternalServerError] != n {
		t.Fatalf("codes %v, want only 200 and 500", codes)
	}
	if got := codes[http.StatusInternalServerError]; got < n/2-tolerance || got > n/2+tolerance {
		t.Errorf("%d of %d requests failed, want %d ± %d", got, n, n/2, tolerance)
	}
}

func TestLatencyIsApplied(t *testing.T) {
	const latency = 150 * time.Millisecond
	h := newTestApp(t, knobSettings{Latency: latency}).userHandler()
	start := time.Now()
	w := call(h, http.MethodGet, "/", "")
	if elapsed := time.Since(start); elapsed < latency {
		t.Errorf("GET / took %s, want at least %s", elapsed, latency)
	}
	if w.Code != http.StatusOK {
		t.Errorf("GET / = %d, want 200", w.Code)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name          string
		failReadiness bool
		draining      bool
		want          int
	}{
		{"ready", false, false, http.StatusOK},
		{"FAIL_READINESS", true, false, http.StatusServiceUnavailable},
		{"draining", false, true, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, knobSettings{FailReadiness: tt.failReadiness})
			if tt.draining {
				a.startDraining()
			}
			h := a.userHandler()
			if got := call(h, http.MethodGet, "/readyz", "").Code; got != tt.want {
				t.Errorf("GET /readyz = %d, want %d", got, tt.want)
			}
			if got := call(h, http.MethodGet, "/healthz", "").Code; got != http.StatusOK {
				t.Errorf("GET /healthz = %d, want 200", got)
			}
		})
	}
}

func TestDrainingAsksClientsToClose(t *testing.T) {
	a := newTestApp(t, knobSettings{})
	h := a.userHandler()
	if got := call(h, http.MethodGet, "/", "").Header().Get("Connection"); got != "" {
		t.Errorf("Connection = %q before draining, want none", got)
	}
	a.startDraining()
	w := call(h, http.MethodGet, "/", "")
	if got := w.Header().Get("Connection"); got != "close" {
		t.Errorf("Connection = %q while draining, want close", got)
	}
	if w.Code != http.StatusOK {
		t.Errorf("GET / = %d while draining, want 200", w.Code)
	}
}

func TestVersionJSON(t *testing.T) {
	w := call(newTestApp(t, knobSettings{}).userHandler(), http.MethodGet, "/version", "")
	var got struct{ Version string }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %q: %v", w.Body, err)
	}
	if got.Version != testVersion {
		t.Errorf("version = %q, want %q", got.Version, testVersion)
	}
}

func TestMetricsCountByCodeAndVersion(t *testing.T) {
	a := newTestApp(t, knobSettings{})
	h := a.userHandler()
	call(h, http.MethodGet, "/", "")
	call(h, http.MethodGet, "/", "")
	a.knobs.startOutage(time.Hour, 1)
	call(h, http.MethodGet, "/", "")

	body := call(h, http.MethodGet, "/metrics", "").Body.String()
	for _, want := range []string{
		`sampleapp_http_requests_total{code="200",version="v-test"} 2`,
		`sampleapp_http_requests_total{code="500",version="v-test"} 1`,
		`sampleapp_http_request_duration_seconds_count{version="v-test"} 3`,
		`sampleapp_http_requests_in_flight{version="v-test"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestTimeAnswersTheAppClock(t *testing.T) {
	w := call(newTestApp(t, knobSettings{}).userHandler(), http.MethodGet, "/time", "")
	var got struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("GET /time: %v (%q)", err, w.Body.String())
	}
	if d := time.Since(got.Time); d < 0 || d > time.Minute {
		t.Errorf("GET /time answered %s, %s away from now", got.Time, d)
	}
}

// newDelayedApp builds an app whose ERROR_RATIO and LATENCY wait for
// FAULT_AFTER. Its logger discards: the timer may log after the test ends.
func newDelayedApp(t *testing.T, settings knobSettings, after time.Duration) *app {
	t.Helper()
	a := newApp(config{Version: testVersion, Knobs: settings, FaultAfter: after}, slog.New(slog.DiscardHandler))
	if a.faultTimer == nil {
		t.Fatalf("FAULT_AFTER=%s with faults %+v started no timer", after, settings)
	}
	t.Cleanup(func() { a.faultTimer.Stop() })
	return a
}

func TestFaultAfterHoldsBackErrorsAndLatency(t *testing.T) {
	const after, latency = 200 * time.Millisecond, 50 * time.Millisecond
	start := time.Now()
	a := newDelayedApp(t, knobSettings{ErrorRatio: 1, Latency: latency}, after)
	user, admin := a.userHandler(), a.adminHandler()

	// Before FAULT_AFTER the version is healthy: it passes a smoke check.
	// Every check below is judged by the time it ended, so a slow host can
	// make the test weaker but never make it fail.
	if v := getKnobsView(t, admin); time.Since(start) < after && (v.ErrorRatio != 0 || v.Latency != "0s") {
		t.Errorf("knobs = %+v before FAULT_AFTER=%s, want errorRatio 0 and latency 0s", v, after)
	}
	var oks int
	waitFor(t, "FAULT_AFTER to turn the errors on", func() bool {
		code := call(user, http.MethodGet, "/", "").Code
		if code == http.StatusOK {
			oks++
			return false
		}
		if elapsed := time.Since(start); elapsed < after {
			t.Fatalf("GET / = %d %s after start, before FAULT_AFTER=%s", code, elapsed, after)
		}
		return true
	})
	if oks == 0 {
		t.Error("no GET / succeeded before FAULT_AFTER: the smoke check would have failed")
	}

	// After it the faults from the environment hold, in full.
	want := knobsView{ErrorRatio: 1, Latency: latency.String()}
	if got := getKnobsView(t, admin); got != want {
		t.Errorf("knobs = %+v after FAULT_AFTER, want %+v", got, want)
	}
	if codes := countCodes(t, user, 5); codes[http.StatusInternalServerError] != 5 {
		t.Errorf("codes %v after FAULT_AFTER, want all 500", codes)
	}
	begin := time.Now()
	call(user, http.MethodGet, "/", "")
	if elapsed := time.Since(begin); elapsed < latency {
		t.Errorf("GET / took %s after FAULT_AFTER, want at least LATENCY=%s", elapsed, latency)
	}
}

func TestFaultAfterKeepsKnobsTheAdminSet(t *testing.T) {
	const after, latency = 200 * time.Millisecond, 50 * time.Millisecond
	a := newDelayedApp(t, knobSettings{ErrorRatio: 1, Latency: latency}, after)
	user, admin := a.userHandler(), a.adminHandler()

	// A drill turns the errors off before they start; the latency it leaves
	// alone. Whether the POST lands before or after FAULT_AFTER, the drill's
	// choice must win.
	if w := call(admin, http.MethodPost, "/admin/knobs", `{"errorRatio":0}`); w.Code != http.StatusOK {
		t.Fatalf("POST /admin/knobs = %d %q, want 200", w.Code, w.Body)
	}
	waitFor(t, "FAULT_AFTER to apply LATENCY", func() bool {
		return getKnobsView(t, admin).Latency == latency.String()
	})
	want := knobsView{ErrorRatio: 0, Latency: latency.String()}
	if got := getKnobsView(t, admin); got != want {
		t.Errorf("knobs = %+v after FAULT_AFTER, want %+v", got, want)
	}
	if codes := countCodes(t, user, 5); codes[http.StatusOK] != 5 {
		t.Errorf("codes %v after FAULT_AFTER, want all 200: the admin set errorRatio 0", codes)
	}
}

func TestFaultAfterWithoutFaultsStartsNoTimer(t *testing.T) {
	a := newApp(config{Version: testVersion, Knobs: knobSettings{FailReadiness: true}, FaultAfter: time.Second},
		slog.New(slog.DiscardHandler))
	if a.faultTimer != nil {
		a.faultTimer.Stop()
		t.Error("FAULT_AFTER with no ERROR_RATIO or LATENCY started a timer")
	}
	if got := call(a.userHandler(), http.MethodGet, "/readyz", "").Code; got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz = %d, want 503: FAULT_AFTER does not hold back FAIL_READINESS", got)
	}
}
