package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/open-feature/go-sdk/openfeature"
)

// fakeRelay answers the two calls the GO Feature Flag provider makes of the
// relay proxy: an OFREP evaluation of one flag, and the change hash it
// polls, with the ETag the real proxy sets.
type fakeRelay struct {
	mu    sync.Mutex
	on    map[string]bool // by targeting key
	hash  int
	polls int
}

func (f *fakeRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/flag/change":
		f.polls++
		etag := fmt.Sprintf(`"%d"`, f.hash)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		writeJSON(w, http.StatusOK, map[string]int{"hash": f.hash})
	case r.Method == http.MethodPost && r.URL.Path == "/ofrep/v1/evaluate/flags/"+appcontract.FlagKey:
		var body struct {
			Context map[string]any `json:"context"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		user, _ := body.Context["targetingKey"].(string)
		writeJSON(w, http.StatusOK, map[string]any{
			"key": appcontract.FlagKey, "value": f.on[user], "reason": "SPLIT", "variant": "enabled",
			"metadata": map[string]any{"gofeatureflag_cacheable": true},
		})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeRelay) flip(user string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on[user] = on
	f.hash++
}

// userCall sends one user request for user and returns its code and the
// version that answered.
func userCall(h http.Handler, user string) (int, string) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(appcontract.UserHeader, user)
	h.ServeHTTP(w, r)
	return w.Code, w.Header().Get(appcontract.VersionHeader)
}

// TestFlagTurnsOnTheNewPath drives the app's flag through the OpenFeature
// SDK and the real provider against a fake relay proxy: the flag picks the
// path per user, a flip reaches the app as PROVIDER_CONFIGURATION_CHANGED,
// and a dead flag server leaves users on the old path, never on an error.
func TestFlagTurnsOnTheNewPath(t *testing.T) {
	relay := &fakeRelay{on: map[string]bool{"user-1": true}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	a := newTestApp(t, knobSettings{})
	var err error
	a.flags, err = newFlags(flagConfig{Server: srv.URL, Key: appcontract.FlagKey, OnVersion: "v2", Poll: 50 * time.Millisecond,
		NewPath: knobSettings{ErrorRatio: 1}})
	if err != nil {
		t.Fatal(err)
	}
	h := a.userHandler()
	waitFor(t, "user-1 on the failing new path as v2", func() bool { code, v := userCall(h, "user-1"); return code == 500 && v == "v2" })
	if code, v := userCall(h, "user-2"); code != 200 || v != testVersion {
		t.Errorf("user-2 (flag off) got %d from %q, want 200 from %q", code, v, testVersion)
	}

	// The provider's first poll only learns the hash it compares with.
	waitFor(t, "the provider's first poll", func() bool { relay.mu.Lock(); defer relay.mu.Unlock(); return relay.polls > 0 })
	relay.flip("user-1", false)
	waitFor(t, "PROVIDER_CONFIGURATION_CHANGED after the flip", func() bool { return changes(a.flags.view()) == 1 })
	if code, v := userCall(h, "user-1"); code != 200 || v != testVersion {
		t.Errorf("user-1 after the kill switch got %d from %q, want 200 from %q: the cache outlived the change", code, v, testVersion)
	}
	w := call(a.adminHandler(), http.MethodGet, appcontract.PathFlags, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), appcontract.FlagChangedEvent) {
		t.Errorf("GET %s = %d %s", appcontract.PathFlags, w.Code, w.Body)
	}

	srv.Close()
	start := time.Now()
	if code, v := userCall(h, "user-3"); code != 200 || v != testVersion {
		t.Errorf("with the flag server down user-3 got %d from %q, want the old path", code, v)
	}
	if took := time.Since(start); took > flagTimeout+200*time.Millisecond {
		t.Errorf("an evaluation against a dead server took %s", took)
	}
}

func changes(v flagsView) int {
	n := 0
	for _, e := range v.Events {
		if e.Event == appcontract.FlagChangedEvent {
			n++
		}
	}
	return n
}

// TestFlagEventNameIsTheContract: the drill reads the provider's event
// name from the contract, so it must be the SDK's.
func TestFlagEventNameIsTheContract(t *testing.T) {
	if got := string(openfeature.ProviderConfigChange); got != appcontract.FlagChangedEvent {
		t.Fatalf("the SDK names the event %q, the contract %q", got, appcontract.FlagChangedEvent)
	}
}

func TestFlagsAdminWithoutAServer(t *testing.T) {
	w := call(newTestApp(t, knobSettings{}).adminHandler(), http.MethodGet, appcontract.PathFlags, "")
	if w.Code != http.StatusNotFound {
		t.Errorf("GET %s without a flag server = %d, want 404", appcontract.PathFlags, w.Code)
	}
}
