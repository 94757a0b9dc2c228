package toxiproxy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

var canary = Target{Namespace: "drill-toxi-1", Selector: "app=app,version=v2"}

// TestToxicBodies pins the JSON each fault POSTs to /proxies/app/toxics, in
// the shape Toxiproxy v2.5.0's ToxicCreate decodes.
func TestToxicBodies(t *testing.T) {
	client := fake.NewClientset()
	for _, tc := range []struct {
		name  string
		build func() (*Fault, error)
		want  string
	}{
		{"toxiproxy-latency", func() (*Fault, error) { return Latency(client, canary, 500*time.Millisecond, 50*time.Millisecond) },
			`{"name":"firedrill-latency","type":"latency","stream":"downstream","toxicity":1,"attributes":{"jitter":50,"latency":500}}`},
		{"toxiproxy-bandwidth", func() (*Fault, error) { return Bandwidth(client, canary, 8) },
			`{"name":"firedrill-bandwidth","type":"bandwidth","stream":"downstream","toxicity":1,"attributes":{"rate":8}}`},
		{"toxiproxy-timeout", func() (*Fault, error) { return Timeout(client, canary, 2*time.Second) },
			`{"name":"firedrill-timeout","type":"timeout","stream":"upstream","toxicity":1,"attributes":{"timeout":2000}}`},
		{"toxiproxy-reset-peer", func() (*Fault, error) { return ResetPeer(client, canary, 0) },
			`{"name":"firedrill-reset-peer","type":"reset_peer","stream":"upstream","toxicity":1,"attributes":{"timeout":0}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			if f.Name() != tc.name || f.Backend() != "native" {
				t.Errorf("fault %s (%s): want %s (native)", f.Name(), f.Backend(), tc.name)
			}
			raw, err := json.Marshal(f.Toxic())
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Errorf("body\n got %s\nwant %s", raw, tc.want)
			}
		})
	}
}

func TestConstructorsRefuse(t *testing.T) {
	client := fake.NewClientset()
	target := func(edit func(*Target)) Target {
		tt := canary
		edit(&tt)
		return tt
	}
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"default namespace", errOf(Latency(client, target(func(t *Target) { t.Namespace = "default" }), time.Second, 0)),
			`refusing to act on namespace "default": not a drill namespace (drill-*)`},
		{"bare prefix", errOf(Bandwidth(client, target(func(t *Target) { t.Namespace = "drill-" }), 1)), `namespace "drill-"`},
		{"kube-system", errOf(Timeout(client, target(func(t *Target) { t.Namespace = "kube-system" }), 0)), `namespace "kube-system"`},
		{"empty selector", errOf(ResetPeer(client, target(func(t *Target) { t.Selector = "" }), 0)), `target selector "": want a non-empty label selector`},
		{"bad selector", errOf(ResetPeer(client, target(func(t *Target) { t.Selector = "a b" }), 0)), `target selector "a b"`},
		{"nil client", errOf(Latency(nil, canary, time.Second, 0)), "client is nil"},
		{"zero latency", errOf(Latency(client, canary, 0, 0)), "latency 0s: want at least 1ms"},
		{"sub-ms latency", errOf(Latency(client, canary, 1500*time.Microsecond, 0)), "latency 1.5ms: want whole milliseconds"},
		{"negative jitter", errOf(Latency(client, canary, time.Second, -time.Millisecond)), "jitter -1ms: want at least 0ms"},
		{"jitter over latency", errOf(Latency(client, canary, 100*time.Millisecond, 200*time.Millisecond)), "jitter 200ms exceeds latency 100ms"},
		{"zero rate", errOf(Bandwidth(client, canary, 0)), "rate 0 KB/s: want at least 1"},
		{"negative timeout", errOf(Timeout(client, canary, -time.Second)), "timeout -1s: want at least 0ms"},
		{"negative reset", errOf(ResetPeer(client, canary, -time.Millisecond)), "toxiproxy-reset-peer: timeout -1ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v: want one line containing %q", err, tc.want)
			}
		})
	}
}

func errOf(_ *Fault, err error) func() error { return func() error { return err } }
