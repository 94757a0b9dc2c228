package flaggerhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Port is where the hook listens in its pod.
const Port = 8080

// The hook's paths.
const (
	PathGate   = "/gate"
	PathEvent  = "/event"
	PathRecord = "/record"
)

// Metadata keys a rollout webhook passes to the gate.
const (
	// MetaURL is the canary's own Service URL the gate sends test requests to.
	MetaURL = "url"
	// MetaRequests is how many test requests each check sends.
	MetaRequests = "requests"
	// MetaMaxErrorRatio is the largest error ratio a check passes.
	MetaMaxErrorRatio = "maxErrorRatio"
	// MetaVersionHeader names the response header that says which version
	// answered, counted per version in each check.
	MetaVersionHeader = "versionHeader"
)

// Defaults of a check whose webhook does not say.
const (
	DefaultRequests      = 20
	DefaultMaxErrorRatio = 0.05
	requestGap           = 20 * time.Millisecond
	requestTimeout       = 2 * time.Second
)

// Payload is what Flagger posts to both webhooks (its CanaryWebhookPayload).
type Payload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// Event is one event Flagger posted: its message, its type (Normal or
// Warning), the Canary's phase, Flagger's own timestamp and when the hook
// received it.
type Event struct {
	Message  string    `json:"message"`
	Type     string    `json:"type"`
	Phase    string    `json:"phase"`
	At       time.Time `json:"at"`
	Received time.Time `json:"received"`
}

// Check is one rollout gate call: the test requests it sent to the canary,
// what they got, and its answer to Flagger.
type Check struct {
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	URL      string         `json:"url"`
	Requests int            `json:"requests"`
	Failed   int            `json:"failed"`
	Versions map[string]int `json:"versions,omitempty"`
	// FirstFailed is when the first failed test request was answered.
	FirstFailed time.Time `json:"firstFailed,omitzero"`
	Passed      bool      `json:"passed"`
	Detail      string    `json:"detail"`
}

// Record is everything the hook saw, in order.
type Record struct {
	Events []Event `json:"events"`
	Checks []Check `json:"checks"`
}

// Hook serves the gate, the event sink and the record.
type Hook struct {
	// Client sends the gate's test requests.
	Client *http.Client
	mu     sync.Mutex
	rec    Record
}

// New returns a hook whose test requests time out after requestTimeout.
func New() *Hook { return &Hook{Client: &http.Client{Timeout: requestTimeout}} }

// Handler routes the hook's paths.
func (h *Hook) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathGate, h.serveGate)
	mux.HandleFunc("POST "+PathEvent, h.serveEvent)
	mux.HandleFunc("GET "+PathRecord, h.serveRecord)
	return mux
}

func readPayload(r *http.Request) (Payload, error) {
	var p Payload
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("payload is not Flagger's JSON: %w", err)
	}
	return p, nil
}

func (h *Hook) serveEvent(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	p, err := readPayload(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e := Event{Message: p.Metadata["eventMessage"], Type: p.Metadata["eventType"], Phase: p.Phase, Received: received}
	if ms, err := strconv.ParseInt(p.Metadata["timestamp"], 10, 64); err == nil {
		e.At = time.UnixMilli(ms)
	}
	h.mu.Lock()
	h.rec.Events = append(h.rec.Events, e)
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (h *Hook) serveGate(w http.ResponseWriter, r *http.Request) {
	p, err := readPayload(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	spec, err := gateSpec(p.Metadata)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := h.check(r.Context(), spec)
	h.mu.Lock()
	h.rec.Checks = append(h.rec.Checks, c)
	h.mu.Unlock()
	if !c.Passed {
		http.Error(w, c.Detail, http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, c.Detail)
}

func (h *Hook) serveRecord(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(h.rec)
}

// spec is a gate check as a webhook's metadata asks for it.
type spec struct {
	url, versionHeader string
	requests           int
	maxErrorRatio      float64
}

func gateSpec(meta map[string]string) (spec, error) {
	s := spec{url: meta[MetaURL], versionHeader: meta[MetaVersionHeader], requests: DefaultRequests, maxErrorRatio: DefaultMaxErrorRatio}
	if s.url == "" {
		return s, fmt.Errorf("metadata %q is missing: the canary's URL", MetaURL)
	}
	if v, ok := meta[MetaRequests]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("metadata %s=%q: want a count of at least 1", MetaRequests, v)
		}
		s.requests = n
	}
	if v, ok := meta[MetaMaxErrorRatio]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return s, fmt.Errorf("metadata %s=%q: want a ratio from 0 to 1", MetaMaxErrorRatio, v)
		}
		s.maxErrorRatio = f
	}
	return s, nil
}

// check sends the test requests one after another and judges the ratio of
// failed ones (a status of 500 or more, or no answer).
func (h *Hook) check(ctx context.Context, s spec) Check {
	c := Check{Start: time.Now(), URL: s.url, Requests: s.requests, Versions: map[string]int{}}
	var last error
	for i := range s.requests {
		if i > 0 {
			time.Sleep(requestGap)
		}
		version, failed, err := h.get(ctx, s)
		if version != "" {
			c.Versions[version]++
		}
		if failed {
			if c.Failed == 0 {
				c.FirstFailed = time.Now()
			}
			c.Failed++
			last = err
		}
	}
	c.End = time.Now()
	ratio := float64(c.Failed) / float64(c.Requests)
	c.Passed = ratio <= s.maxErrorRatio
	c.Detail = fmt.Sprintf("canary error ratio %.2f (%d of %d test requests to %s failed), limit %.2f", ratio, c.Failed, c.Requests, s.url, s.maxErrorRatio)
	if last != nil {
		c.Detail += "; last failure: " + last.Error()
	}
	return c
}

func (h *Hook) get(ctx context.Context, s spec) (version string, failed bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return "", true, err
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		return "", true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if s.versionHeader != "" {
		version = resp.Header.Get(s.versionHeader)
	}
	if resp.StatusCode >= 500 {
		return version, true, fmt.Errorf("status %d", resp.StatusCode)
	}
	return version, false, nil
}
