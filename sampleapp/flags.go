package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	gofeatureflag "github.com/open-feature/go-sdk-contrib/providers/go-feature-flag/pkg"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// flagConfig is the feature flag part of the configuration: where the flag
// server is, which flag turns on the new code path, and how that path
// behaves.
type flagConfig struct {
	Server    string
	Key       string
	OnVersion string
	Poll      time.Duration
	NewPath   knobSettings
}

// Evaluation bounds: an unreachable flag server must cost a user request
// little, and a cached answer must not outlive a dead server for long.
const (
	flagTimeout  = 300 * time.Millisecond
	flagCacheTTL = time.Second
)

// flagChange is one event of the flag provider, as the app saw it.
type flagChange struct {
	At    time.Time `json:"at"`
	Event string    `json:"event"`
	// Message is the provider's own words.
	Message string `json:"message,omitempty"`
}

// flags evaluates the flag through the OpenFeature SDK and the GO Feature
// Flag provider, which asks the relay proxy (OFREP), caches answers for a
// second, and polls the proxy for configuration changes. It records every
// provider event, so that a drill learns when this pod saw a flip.
type flags struct {
	cfg    flagConfig
	client *openfeature.Client

	mu     sync.Mutex
	events []flagChange
}

// maxFlagEvents bounds the events kept.
const maxFlagEvents = 256

// newFlags sets the provider up without waiting for the server: an app
// whose flag server is down still serves, on the old path.
func newFlags(cfg flagConfig) (*flags, error) {
	provider, err := gofeatureflag.NewProvider(gofeatureflag.ProviderOptions{
		Endpoint:                  cfg.Server,
		HTTPClient:                &http.Client{Timeout: flagTimeout},
		FlagCacheTTL:              flagCacheTTL,
		FlagChangePollingInterval: cfg.Poll,
		DisableDataCollector:      true,
	})
	if err != nil {
		return nil, err
	}
	f := &flags{cfg: cfg}
	for _, t := range []openfeature.EventType{openfeature.ProviderReady, openfeature.ProviderConfigChange, openfeature.ProviderStale, openfeature.ProviderError} {
		handler := func(d openfeature.EventDetails) { f.record(t, d.Message) }
		openfeature.AddHandler(t, &handler)
	}
	if err := openfeature.SetProvider(provider); err != nil {
		return nil, err
	}
	f.client = openfeature.NewClient("sampleapp")
	return f, nil
}

func (f *flags) record(t openfeature.EventType, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, flagChange{At: time.Now(), Event: string(t), Message: message})
	if len(f.events) > maxFlagEvents {
		f.events = f.events[len(f.events)-maxFlagEvents:]
	}
}

// on evaluates the flag for user; any error (the server unreachable, the
// flag missing) is the flag's default, off.
func (f *flags) on(ctx context.Context, user string) bool {
	ec := openfeature.NewEvaluationContext(user, nil)
	return f.client.Boolean(ctx, f.cfg.Key, false, ec)
}

// flagsView is the JSON answer of GET /admin/flags.
type flagsView struct {
	Server string       `json:"server"`
	Flag   string       `json:"flag"`
	Events []flagChange `json:"events"`
}

func (f *flags) view() flagsView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return flagsView{Server: f.cfg.Server, Flag: f.cfg.Key, Events: append([]flagChange(nil), f.events...)}
}

// userOf is the user a request is for: the observer's header, or the
// client's address.
func userOf(r *http.Request) string {
	if u := r.Header.Get(appcontract.UserHeader); u != "" {
		return u
	}
	return r.RemoteAddr
}

// serveFlags answers GET /admin/flags: the flag and every provider event
// this pod saw, PROVIDER_CONFIGURATION_CHANGED among them.
func (a *app) serveFlags(w http.ResponseWriter, _ *http.Request) {
	if a.flags == nil {
		http.Error(w, "no flag server: "+appcontract.EnvFlagServer+" is not set", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, a.flags.view())
}

// path returns the knobs and the version of a user request: the new path's
// where the flag is on for the request's user.
func (a *app) path(r *http.Request, settings knobSettings) (knobSettings, string) {
	if a.flags == nil || !a.flags.on(r.Context(), userOf(r)) {
		return settings, a.version
	}
	settings.ErrorRatio, settings.Latency = a.flags.cfg.NewPath.ErrorRatio, a.flags.cfg.NewPath.Latency
	return settings, a.flags.cfg.OnVersion
}
