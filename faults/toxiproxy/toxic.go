package toxiproxy

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// ToxicPrefix starts the name of every toxic the harness adds, so that
// Verify can tell the harness's toxics from anyone else's.
const ToxicPrefix = "firedrill-"

// Toxic streams: downstream is the app's response on its way to the user,
// upstream the user's request on its way to the app.
const (
	Downstream = "downstream"
	Upstream   = "upstream"
)

// Toxic is one Toxiproxy toxic as its API takes and returns it
// (POST /proxies/{proxy}/toxics). Every toxic the faults add has integer
// attributes, in milliseconds or KB/s.
type Toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float32          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// same reports whether two toxics would act alike.
func (t Toxic) same(o Toxic) bool {
	return t.Name == o.Name && t.Type == o.Type && t.Stream == o.Stream && t.Toxicity == o.Toxicity &&
		maps.Equal(t.Attributes, o.Attributes)
}

func (t Toxic) String() string {
	return fmt.Sprintf("%s (%s %s %v)", t.Name, t.Stream, t.Type, t.Attributes)
}

// Target selects the pods whose proxy a fault poisons: the pods matching
// Selector in the drill namespace, as the machinery placed them. Every one
// of them must run the sidecar.
type Target struct {
	// Namespace is the drill namespace (drill-*).
	Namespace string
	// Selector matches the target's pods; it must not be empty.
	Selector string
}

// Latency delays every chunk of the app's responses by latency ± jitter,
// without touching requests, so the app sees normal load while users see
// slow answers. Jitter must not exceed latency: Toxiproxy would clip the
// negative delays to zero and skew the distribution.
func Latency(client kubernetes.Interface, t Target, latency, jitter time.Duration) (*Fault, error) {
	const fault = "toxiproxy-latency"
	lat, err := millis(fault, "latency", latency, 1)
	if err != nil {
		return nil, err
	}
	jit, err := millis(fault, "jitter", jitter, 0)
	if err != nil {
		return nil, err
	}
	if jitter > latency {
		return nil, fmt.Errorf("toxiproxy: %s: jitter %s exceeds latency %s", fault, jitter, latency)
	}
	return newFault(client, t, fault, Downstream, "latency", map[string]int64{"latency": lat, "jitter": jit})
}

// Bandwidth caps the app's responses at rateKB KB/s.
func Bandwidth(client kubernetes.Interface, t Target, rateKB int64) (*Fault, error) {
	const fault = "toxiproxy-bandwidth"
	if rateKB < 1 {
		return nil, fmt.Errorf("toxiproxy: %s: rate %d KB/s: want at least 1 (Toxiproxy treats 0 as unlimited)", fault, rateKB)
	}
	return newFault(client, t, fault, Downstream, "bandwidth", map[string]int64{"rate": rateKB})
}

// Timeout black-holes requests: they never reach the app, and the proxy
// closes the connection after timeout, or never when timeout is 0. It acts
// upstream so the app does no work for requests whose answer is dropped.
func Timeout(client kubernetes.Interface, t Target, timeout time.Duration) (*Fault, error) {
	const fault = "toxiproxy-timeout"
	ms, err := millis(fault, "timeout", timeout, 0)
	if err != nil {
		return nil, err
	}
	return newFault(client, t, fault, Upstream, "timeout", map[string]int64{"timeout": ms})
}

// ResetPeer answers each request's first bytes with a TCP reset after
// timeout (0 resets at once). It acts upstream, like a peer that resets on
// receipt, so the app never sees the request.
func ResetPeer(client kubernetes.Interface, t Target, timeout time.Duration) (*Fault, error) {
	const fault = "toxiproxy-reset-peer"
	ms, err := millis(fault, "timeout", timeout, 0)
	if err != nil {
		return nil, err
	}
	return newFault(client, t, fault, Upstream, "reset_peer", map[string]int64{"timeout": ms})
}

// millis converts a duration to the whole milliseconds Toxiproxy takes,
// refusing what it would silently truncate.
func millis(fault, field string, d time.Duration, least int64) (int64, error) {
	if d%time.Millisecond != 0 {
		return 0, fmt.Errorf("toxiproxy: %s: %s %s: want whole milliseconds", fault, field, d)
	}
	if ms := d.Milliseconds(); ms < least {
		return 0, fmt.Errorf("toxiproxy: %s: %s %s: want at least %dms", fault, field, d, least)
	}
	return d.Milliseconds(), nil
}

func newFault(client kubernetes.Interface, t Target, fault, stream, typ string, attrs map[string]int64) (*Fault, error) {
	if client == nil {
		return nil, fmt.Errorf("toxiproxy: %s: client is nil", fault)
	}
	selector, err := t.selector(fault)
	if err != nil {
		return nil, err
	}
	return &Fault{
		name:     fault,
		target:   t,
		selector: selector,
		toxic:    Toxic{Name: ToxicPrefix + strings.TrimPrefix(fault, "toxiproxy-"), Type: typ, Stream: stream, Toxicity: 1, Attributes: attrs},
		client:   client,
		api:      newPodProxy(client, t.Namespace),
	}, nil
}

// selector checks the target and returns its pod label selector.
func (t Target) selector(fault string) (string, error) {
	if err := appcontract.CheckNamespace("toxiproxy: "+fault, t.Namespace); err != nil {
		return "", err
	}
	sel, err := labels.Parse(t.Selector)
	if err != nil || sel.Empty() {
		return "", fmt.Errorf("toxiproxy: %s: target selector %q: want a non-empty label selector", fault, t.Selector)
	}
	return t.Selector, nil
}
