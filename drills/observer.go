package drills

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const (
	// DefaultObserverRate is the request rate when ObserverConfig.Rate is 0.
	// 50 Hz gives a 20ms resolution, well above the design's 20 Hz floor,
	// while staying light enough not to be a load test of the app.
	DefaultObserverRate = 50
	// MaxObserverRate bounds ObserverConfig.Rate: the observer watches the
	// user path, and much faster it would be load-testing the app and the
	// harness host instead.
	MaxObserverRate = 2000
	// DefaultObserverTimeout is the per-request timeout when
	// ObserverConfig.Timeout is 0: a user who waits longer than a second has
	// seen the service fail.
	DefaultObserverTimeout = time.Second
	// observerUserAgent marks observer traffic in the app's logs.
	observerUserAgent = "firedrill-observer"
	// maxObserverWorkers caps the attacker's worker goroutines (each holds
	// at most one connection), whatever Rate and Timeout ask for.
	maxObserverWorkers = 10000
	// initialObserverWorkers is how many workers start; more are added on
	// demand when slow answers keep all of them busy.
	initialObserverWorkers = 10
)

// ObserverConfig says where the Observer sends traffic and how hard. Rate
// and Timeout take their defaults when zero.
type ObserverConfig struct {
	// URL is the user path to GET, e.g. http://127.0.0.1:30080/ through the
	// kind port mapping, or a Service or ingress URL on staging.
	URL string
	// Rate is requests per second, sent at a constant pace whatever the
	// answers; 0 means DefaultObserverRate.
	Rate int
	// Timeout bounds each request from start to the last byte of the answer;
	// a request that takes longer is recorded as a failure. 0 means
	// DefaultObserverTimeout.
	Timeout time.Duration
	// NewConnections opens a new connection for every request instead of
	// keeping connections alive. kube-proxy balances connections, not
	// requests, so a kept-alive observer at a low rate sends nearly all its
	// traffic down one connection to one pod and may never see a canary;
	// new connections spread it like many users' would, at the cost of a
	// TCP handshake per request.
	NewConnections bool
}

// Validate checks c before traffic starts, so a typo in a scenario fails
// fast instead of producing a drill whose every request fails.
func (c ObserverConfig) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		return fmt.Errorf("observer: URL %q must be http or https with a host", c.URL)
	case c.Rate < 0 || c.Rate > MaxObserverRate:
		return fmt.Errorf("observer: Rate %d is outside [1, %d]; use 0 for the default %d", c.Rate, MaxObserverRate, DefaultObserverRate)
	case c.Timeout < 0:
		return fmt.Errorf("observer: Timeout %v is negative; use 0 for the default %v", c.Timeout, DefaultObserverTimeout)
	}
	return nil
}

// withDefaults returns c with zero Rate and Timeout replaced by defaults.
func (c ObserverConfig) withDefaults() ObserverConfig {
	if c.Rate == 0 {
		c.Rate = DefaultObserverRate
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultObserverTimeout
	}
	return c
}

// Observer is the drill's traffic generator: it sends real HTTP GETs
// through the user path at a fixed rate and records every request as a
// Sample, so the SLO is judged on what users saw rather than on what the
// cluster reports. It runs once: Start, then Stop.
//
// Requests are paced by the clock, not by the answers: a server that hangs
// every request for the full Timeout does not slow the observer down (as
// long as that is at most 10000 requests in flight), so an outage shows up
// as failed samples rather than as missing ones. Connections are kept alive
// between requests, as a browser would, unless NewConnections is set.
type Observer struct {
	cfg    ObserverConfig // defaults applied
	target vegeta.Target

	mu       sync.Mutex
	samples  []Sample // sorted by At
	started  bool
	stopped  bool
	attacker *vegeta.Attacker // nil until started
	drained  chan struct{}    // closed when the last result is recorded
}

// NewObserver returns an Observer for cfg, which must be valid.
func NewObserver(cfg ObserverConfig) (*Observer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Observer{
		cfg: cfg,
		target: vegeta.Target{
			Method: http.MethodGet,
			URL:    cfg.URL,
			Header: http.Header{"User-Agent": {observerUserAgent}},
		},
	}, nil
}

// observerUsers is how many users the observer takes turns at: each
// request names one (appcontract.UserHeader), so that a flag's percentage
// rollout, keyed on the user, splits the traffic as it would split users.
const observerUsers = 1000

// targeter hands out the target, for the next user in turn.
func (o *Observer) targeter() vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		*t = o.target
		t.Header = o.target.Header.Clone()
		t.Header.Set(appcontract.UserHeader, "user-"+strconv.FormatUint(n.Add(1)%observerUsers, 10))
		return nil
	}
}

// Start starts traffic in the background and returns at once. Traffic runs
// until ctx ends or Stop is called. An Observer starts only once: Start
// returns an error if it was already started or stopped, or if ctx has
// already ended.
func (o *Observer) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("observer: not started: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.stopped:
		return errors.New("observer: already stopped; an Observer runs once")
	case o.started:
		return errors.New("observer: already started")
	}
	o.started = true
	transport := &http.Transport{Proxy: http.ProxyFromEnvironment}
	o.attacker = vegeta.NewAttacker(o.options(transport)...)
	o.drained = make(chan struct{})
	// Duration 0 makes vegeta attack until Stop.
	results := o.attacker.Attack(o.targeter(),
		vegeta.ConstantPacer{Freq: o.cfg.Rate, Per: time.Second}, 0, "")
	go o.collect(results, transport, o.drained)
	go func(atk *vegeta.Attacker, drained <-chan struct{}) {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-drained:
		}
	}(o.attacker, o.drained)
	return nil
}

// options configures the attacker to send through transport, which the
// observer owns so that it can close the kept-alive connections when
// traffic stops. Enough workers are allowed to keep the pace while every
// request hangs for the full Timeout, with a second of headroom; each
// worker may keep one idle connection for reuse. HTTP/2 is off so that
// concurrent requests use separate connections, as separate users' would,
// rather than one multiplexed connection to one pod. Redirects are recorded
// as answers, not followed, since the user path is the URL itself, and
// bodies are drained without being kept. Proxies come from the
// environment, as for any Go client.
func (o *Observer) options(transport *http.Transport) []func(*vegeta.Attacker) {
	workers := math.Ceil(float64(o.cfg.Rate) * (o.cfg.Timeout.Seconds() + 1))
	maxWorkers := uint64(min(workers, maxObserverWorkers))
	return []func(*vegeta.Attacker){
		vegeta.Client(&http.Client{Transport: transport}), // first: the options below configure it
		vegeta.Timeout(o.cfg.Timeout),
		vegeta.KeepAlive(!o.cfg.NewConnections),
		vegeta.HTTP2(false),
		vegeta.Workers(min(initialObserverWorkers, maxWorkers)),
		vegeta.MaxWorkers(maxWorkers),
		vegeta.Connections(int(maxWorkers)),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.MaxBody(0),
	}
}

// collect records results until the attack ends, then closes the idle
// connections and drained.
func (o *Observer) collect(results <-chan *vegeta.Result, transport *http.Transport, drained chan<- struct{}) {
	defer close(drained)
	for r := range results {
		o.record(sampleOf(r))
	}
	transport.CloseIdleConnections()
}

// sampleOf turns a vegeta result into a Sample. vegeta sets Code only when a
// whole answer was read, and sets Error for non-2xx/3xx answers too; Err
// keeps only errors where no answer arrived, since an answered request's
// status already says how it went.
func sampleOf(r *vegeta.Result) Sample {
	s := Sample{
		At:      r.Timestamp,
		Latency: r.Latency,
		Status:  int(r.Code),
		Version: r.Headers.Get(appcontract.VersionHeader),
	}
	if r.Code == 0 {
		s.Err = r.Error
	}
	return s
}

// record inserts s keeping samples sorted by At. Results arrive in
// completion order, which is start order except among requests in flight
// together, so the insertion point is found from the end.
func (o *Observer) record(s Sample) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := len(o.samples)
	for i > 0 && o.samples[i-1].At.After(s.At) {
		i--
	}
	o.samples = slices.Insert(o.samples, i, s)
}

// Stop stops traffic, waits for the requests in flight to be answered or
// to time out (at most Timeout), closes the observer's connections and
// returns every sample sorted by At.
// Calling it again, or before Start, is safe; after Stop, Start fails.
func (o *Observer) Stop() []Sample {
	o.mu.Lock()
	o.stopped = true
	atk, drained := o.attacker, o.drained
	o.mu.Unlock()
	if atk != nil {
		atk.Stop()
		<-drained
	}
	return o.Samples()
}

// Samples returns a copy of the samples recorded so far, sorted by At. It
// is safe to call while traffic runs; requests still in flight are not in
// it yet.
func (o *Observer) Samples() []Sample {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.samples)
}

// settleSlack is added to Timeout before a request counts as finished: the
// timed-out result still has to reach the collector.
const settleSlack = 100 * time.Millisecond

// Settled returns a copy of the samples whose requests have all finished as
// of now, sorted by At: those that started at least Timeout ago. A sample is
// recorded when its request ends, stamped with its start, so the newest
// Timeout of samples may still be missing slow and hanging requests; a
// judgement made on them could call a window healthy that is not.
func (o *Observer) Settled(now time.Time) []Sample {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.samples[:o.firstAtOrAfter(now.Add(-o.cfg.Timeout-settleSlack))])
}

// Since returns a copy of the samples recorded so far with At at or after
// t, sorted by At.
func (o *Observer) Since(t time.Time) []Sample {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.samples[o.firstAtOrAfter(t):])
}

// firstAtOrAfter returns the index of the first sample with At >= t; o.mu
// must be held.
func (o *Observer) firstAtOrAfter(t time.Time) int {
	i, _ := slices.BinarySearchFunc(o.samples, t, func(s Sample, t time.Time) int {
		return s.At.Compare(t)
	})
	return i
}

// Interval is the time between two requests, 1s/Rate: the observer's time
// resolution, and so the error bound on any instant derived from its
// samples, MTTR included.
func (o *Observer) Interval() time.Duration {
	return time.Second / time.Duration(o.cfg.Rate)
}

// Watch is the harness SLO monitor, for scenarios that delegate detection
// to the harness: like an alert firing a webhook, it calls onBreach the
// first time slo is breached, so that a rollback hook can act on it. It
// blocks until ctx ends and calls onBreach at most once, with the end of the
// breached window. slo must be valid (SLO.Validate); every <= 0 means
// Interval.
//
// Every `every` it evaluates the window ending at now-Timeout, or at the
// newest sample when that is earlier. A request's sample is recorded only
// when it is answered or times out, so windows ending later than
// now-Timeout could still be missing the slow or hanging requests that
// show a breach; now-Timeout is the latest window that is complete, and
// detection lags by Timeout. Clamping to the newest sample keeps an
// observer that is not running from reading as an empty window, and so as
// a breach. A window ending before the first sample is not judged.
//
// Only the window at each tick is judged, as an alerting rule would be, so
// a breach shorter than `every` can go unseen; keep `every` well below the
// SLO window. Analyze, which judges every sample, gives the reported
// detection time.
func (o *Observer) Watch(ctx context.Context, slo SLO, every time.Duration, onBreach func(at time.Time)) {
	if every <= 0 {
		every = o.Interval()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if at, breach := o.breachNow(slo, time.Now()); breach {
				onBreach(at)
				<-ctx.Done()
				return
			}
		}
	}
}

// breachNow evaluates slo over the latest complete window as of now (see
// Watch) and returns that window's end and whether it is breached.
func (o *Observer) breachNow(slo SLO, now time.Time) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.samples) == 0 {
		return time.Time{}, false
	}
	end := now.Add(-o.cfg.Timeout)
	if newest := o.samples[len(o.samples)-1].At; newest.Before(end) {
		end = newest
	}
	if end.Before(o.samples[0].At) {
		return time.Time{}, false
	}
	from := o.firstAtOrAfter(end.Add(-slo.Window))
	return end, slo.Breach(o.samples[from:], end)
}
