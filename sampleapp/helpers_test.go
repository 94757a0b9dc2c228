package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testVersion = "v-test"

// newTestApp builds an app whose logs go to the test output.
func newTestApp(t *testing.T, settings knobSettings) *app {
	t.Helper()
	cfg := config{Version: testVersion, Knobs: settings}
	return newApp(cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
}

// call sends one request to h and returns the recorded answer.
func call(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, r))
	return w
}

// countCodes sends n requests for / and counts the answers by status code.
func countCodes(t *testing.T, h http.Handler, n int) map[int]int {
	t.Helper()
	codes := map[int]int{}
	for range n {
		w := call(h, http.MethodGet, "/", "")
		if got := w.Header().Get("X-App-Version"); got != testVersion {
			t.Fatalf("X-App-Version = %q on a %d answer, want %q", got, w.Code, testVersion)
		}
		codes[w.Code]++
	}
	return codes
}
