package drills

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// localServer starts h on 127.0.0.1 only and closes it when the test ends.
func localServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// switchable answers with the status it holds, stamped with version v1 like
// the sample app, so a test can break and heal it while traffic runs.
type switchable struct{ status atomic.Int32 }

func newSwitchable(status int) *switchable {
	s := &switchable{}
	s.set(status)
	return s
}

func (s *switchable) set(status int) { s.status.Store(int32(status)) }

func (s *switchable) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set(appcontract.VersionHeader, "v1")
	w.WriteHeader(int(s.status.Load()))
}

// startObserver starts an observer on cfg and stops it when the test ends
// (before the server closes, since cleanups run last-registered first).
func startObserver(t *testing.T, ctx context.Context, cfg ObserverConfig) *Observer {
	t.Helper()
	o, err := NewObserver(cfg)
	if err != nil {
		t.Fatalf("NewObserver: %v", err)
	}
	if err := o.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { o.Stop() })
	return o
}

// observeFor runs an observer on cfg for d of traffic and returns its
// samples.
func observeFor(t *testing.T, cfg ObserverConfig, d time.Duration) ([]Sample, *Observer) {
	t.Helper()
	o := startObserver(t, t.Context(), cfg)
	time.Sleep(d)
	ss := o.Stop()
	if len(ss) == 0 {
		t.Fatalf("no samples after %v at %d rps", d, o.cfg.Rate)
	}
	if !slices.IsSortedFunc(ss, func(a, b Sample) int { return a.At.Compare(b.At) }) {
		t.Errorf("samples are not sorted by At")
	}
	return ss, o
}

func TestObserverConfigValidate(t *testing.T) {
	const url = "http://127.0.0.1:30080/"
	for _, tc := range []struct {
		name string
		cfg  ObserverConfig
		want string // substring of the error; "" for valid
	}{
		{"defaults", ObserverConfig{URL: url}, ""},
		{"explicit", ObserverConfig{URL: "https://app.staging.example/health", Rate: MaxObserverRate, Timeout: time.Millisecond}, ""},
		{"empty URL", ObserverConfig{}, "URL"},
		{"no scheme", ObserverConfig{URL: "127.0.0.1:30080"}, "URL"},
		{"relative", ObserverConfig{URL: "/healthz"}, "URL"},
		{"other scheme", ObserverConfig{URL: "ftp://127.0.0.1/"}, "URL"},
		{"no host", ObserverConfig{URL: "http:///path"}, "URL"},
		{"port only", ObserverConfig{URL: "http://:30080/"}, "URL"},
		{"negative rate", ObserverConfig{URL: url, Rate: -1}, "Rate"},
		{"rate too high", ObserverConfig{URL: url, Rate: MaxObserverRate + 1}, "Rate"},
		{"negative timeout", ObserverConfig{URL: url, Timeout: -time.Second}, "Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error about %s", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("Validate() error spans lines: %q", err)
			}
			if _, nerr := NewObserver(tc.cfg); (nerr == nil) != (err == nil) {
				t.Fatalf("NewObserver error %v disagrees with Validate %v", nerr, err)
			}
		})
	}
}

func TestObserverDefaults(t *testing.T) {
	o, err := NewObserver(ObserverConfig{URL: "http://127.0.0.1:30080/"})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Rate != DefaultObserverRate || o.cfg.Timeout != DefaultObserverTimeout {
		t.Errorf("defaults: rate %d timeout %v, want %d and %v", o.cfg.Rate, o.cfg.Timeout, DefaultObserverRate, DefaultObserverTimeout)
	}
	if got := o.Interval(); got != 20*time.Millisecond {
		t.Errorf("Interval() = %v, want 20ms at the default rate", got)
	}
}

func TestObserverHealthy(t *testing.T) {
	srv := localServer(t, newSwitchable(http.StatusOK))
	ss, o := observeFor(t, ObserverConfig{URL: srv.URL, Rate: 50}, 1200*time.Millisecond)

	if got := o.Interval(); got != 20*time.Millisecond {
		t.Errorf("Interval() = %v, want 20ms", got)
	}
	// Count a fixed second of request starts, so a slow sleep on a busy
	// machine does not change the expectation.
	first := ss[0].At
	inSecond := len(ss) - len(o.Since(first.Add(time.Second)))
	if inSecond < 30 || inSecond > 70 {
		t.Errorf("%d requests started in the first second at 50 rps, want 30..70", inSecond)
	}
	for _, s := range ss {
		if s.Failed() || s.Status != http.StatusOK || s.Err != "" || s.Version != "v1" || s.Latency <= 0 {
			t.Fatalf("sample %+v, want a 200 from v1 with a latency and no error", s)
		}
	}
}

func TestObserverOutageThenRestore(t *testing.T) {
	app := newSwitchable(http.StatusOK)
	srv := localServer(t, app)
	o := startObserver(t, t.Context(), ObserverConfig{URL: srv.URL, Rate: 50})

	time.Sleep(400 * time.Millisecond)
	breakAt := time.Now()
	app.set(http.StatusInternalServerError)
	time.Sleep(600 * time.Millisecond)
	healAt := time.Now()
	app.set(http.StatusOK)
	time.Sleep(1500 * time.Millisecond)
	ss := o.Stop()

	var failed, served int
	for _, s := range ss {
		switch {
		case s.Status == http.StatusInternalServerError && s.Err == "" && s.Version == "v1":
			failed++
		case s.Status == http.StatusOK:
			served++
		default:
			t.Fatalf("sample %+v, want a 200, or a 500 with no Err", s)
		}
	}
	if failed == 0 || served == 0 {
		t.Fatalf("%d failed and %d served samples, want both", failed, served)
	}

	slo := SLO{MaxErrorRatio: 0.1, Window: 300 * time.Millisecond, Stability: 500 * time.Millisecond}
	a := Analyze(ss, slo, breakAt, o.Interval())
	if !a.Breached || a.Detected.After(healAt) {
		t.Fatalf("breach not detected during the outage: %+v", a)
	}
	if a.Restored.IsZero() {
		t.Fatalf("not restored after healing: %+v", a)
	}
	// A request started just before healing may be answered after it, so
	// allow one window of slack.
	if a.Restored.Before(healAt.Add(-slo.Window)) {
		t.Errorf("restored %v before healing", healAt.Sub(a.Restored))
	}
	if a.Failed == 0 || a.Failed > a.Total {
		t.Errorf("budget %d failed of %d, want some failures", a.Failed, a.Total)
	}
}

func TestObserverConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	ss, _ := observeFor(t, ObserverConfig{URL: "http://" + addr + "/", Rate: 50}, 300*time.Millisecond)
	for _, s := range ss {
		if !s.Failed() || s.Status != 0 || s.Err == "" || s.Version != "" {
			t.Fatalf("sample %+v, want a failure with Err set and Status 0", s)
		}
	}
}

func TestObserverTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv := localServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the observer gave up and hung up
		case <-time.After(5 * time.Second):
		}
	}))
	ss, _ := observeFor(t, ObserverConfig{URL: srv.URL, Rate: 20, Timeout: timeout}, 500*time.Millisecond)
	for _, s := range ss {
		if !s.Failed() || s.Status != 0 || !strings.Contains(strings.ToLower(s.Err), "timeout") {
			t.Fatalf("sample %+v, want a failure with Status 0 and a timeout Err", s)
		}
		if s.Latency < timeout {
			t.Fatalf("sample %+v timed out before the %v timeout", s, timeout)
		}
	}
}

func TestObserverConnections(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("NewConnections=%v", fresh), func(t *testing.T) {
			var closing, total atomic.Int32
			srv := localServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				total.Add(1)
				if r.Close { // the client asked for the connection to end with this request
					closing.Add(1)
				}
			}))
			observeFor(t, ObserverConfig{URL: srv.URL, Rate: 50, NewConnections: fresh}, 300*time.Millisecond)
			want := int32(0)
			if fresh {
				want = total.Load()
			}
			if got := closing.Load(); got != want {
				t.Errorf("%d of %d requests closed their connection, want %d", got, total.Load(), want)
			}
		})
	}
}

func TestObserverStopsWhenContextEnds(t *testing.T) {
	srv := localServer(t, newSwitchable(http.StatusOK))
	ctx, cancel := context.WithCancel(t.Context())
	o := startObserver(t, ctx, ObserverConfig{URL: srv.URL, Rate: 50})
	time.Sleep(300 * time.Millisecond)
	cancel()
	cancelAt := time.Now()
	time.Sleep(time.Second)

	// Half a second of grace for a loaded machine; a runaway observer
	// would have sent about 25 requests since.
	if n := len(o.Since(cancelAt.Add(500 * time.Millisecond))); n != 0 {
		t.Errorf("%d requests started well after the context ended", n)
	}
	if len(o.Stop()) == 0 {
		t.Errorf("no samples before the context ended")
	}
}

func TestObserverLifecycle(t *testing.T) {
	srv := localServer(t, newSwitchable(http.StatusOK))
	o, err := NewObserver(ObserverConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if ss := o.Samples(); len(ss) != 0 {
		t.Errorf("%d samples before Start", len(ss))
	}

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := o.Start(canceled); err == nil {
		t.Errorf("Start with an ended context succeeded")
	}
	if err := o.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := o.Start(t.Context()); err == nil {
		t.Errorf("second Start succeeded")
	}
	time.Sleep(200 * time.Millisecond)
	first := o.Stop()
	if second := o.Stop(); len(second) != len(first) {
		t.Errorf("second Stop returned %d samples, first %d", len(second), len(first))
	}
	if err := o.Start(t.Context()); err == nil {
		t.Errorf("Start after Stop succeeded")
	}

	if len(first) < 2 {
		t.Fatalf("%d samples, want a few", len(first))
	}
	mid := first[len(first)/2].At
	want := slices.DeleteFunc(slices.Clone(first), func(s Sample) bool { return s.At.Before(mid) })
	if got := o.Since(mid); !slices.Equal(got, want) {
		t.Errorf("Since(mid) returned %d samples, want %d", len(got), len(want))
	}
}

func TestObserverStopBeforeStart(t *testing.T) {
	o, err := NewObserver(ObserverConfig{URL: "http://127.0.0.1:30080/"})
	if err != nil {
		t.Fatal(err)
	}
	if ss := o.Stop(); len(ss) != 0 {
		t.Errorf("Stop before Start returned %d samples", len(ss))
	}
	if err := o.Start(t.Context()); err == nil {
		t.Errorf("Start after Stop succeeded")
	}
}

// watchSLO is lenient enough that a busy test machine, which can starve a
// request into a timeout now and then, does not breach it, and strict
// enough that an outage does at once.
var watchSLO = SLO{MaxErrorRatio: 0.3, Window: time.Second}

// watchCfg keeps the monitor's lag (Timeout) shorter than the default for
// tests, but not so short that a busy machine times requests out.
func watchCfg(url string) ObserverConfig {
	return ObserverConfig{URL: url, Rate: 50, Timeout: 500 * time.Millisecond}
}

// logFailures logs the failed samples in ss, to show why a watch fired.
func logFailures(t *testing.T, ss []Sample) {
	t.Helper()
	for _, s := range ss {
		if s.Failed() {
			t.Logf("failed sample: %+v", s)
		}
	}
}

// watcher runs o.Watch in the background and records its calls.
type watcher struct {
	calls  atomic.Int32
	first  chan time.Time // the first call's window end
	cancel context.CancelFunc
	done   chan struct{}
}

func startWatch(t *testing.T, o *Observer, slo SLO) *watcher {
	ctx, cancel := context.WithCancel(t.Context())
	w := &watcher{first: make(chan time.Time, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		o.Watch(ctx, slo, 50*time.Millisecond, func(at time.Time) {
			if w.calls.Add(1) == 1 {
				w.first <- at
			}
		})
	}()
	t.Cleanup(w.stop)
	return w
}

// stop ends the watch and waits for Watch to return.
func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

func TestObserverWatchFiresOnceOnOutage(t *testing.T) {
	app := newSwitchable(http.StatusOK)
	srv := localServer(t, app)
	o := startObserver(t, t.Context(), watchCfg(srv.URL))
	w := startWatch(t, o, watchSLO)

	time.Sleep(time.Second)
	if n := w.calls.Load(); n != 0 {
		logFailures(t, o.Samples())
		t.Fatalf("onBreach called %d times while healthy", n)
	}
	breakAt := time.Now()
	app.set(http.StatusInternalServerError)

	var at time.Time
	select {
	case at = <-w.first:
	case <-time.After(10 * time.Second):
		t.Fatalf("onBreach not called within 10s of the outage")
	}
	if at.Before(breakAt.Add(-watchSLO.Window)) {
		t.Errorf("breach window ends %v before the outage", breakAt.Sub(at))
	}
	time.Sleep(500 * time.Millisecond) // give a second call the chance to happen
	w.stop()
	if n := w.calls.Load(); n != 1 {
		t.Errorf("onBreach called %d times, want once", n)
	}
}

func TestObserverWatchQuietWhenHealthy(t *testing.T) {
	srv := localServer(t, newSwitchable(http.StatusOK))
	o := startObserver(t, t.Context(), watchCfg(srv.URL))
	w := startWatch(t, o, watchSLO)
	time.Sleep(1500 * time.Millisecond)
	w.stop()
	if n := w.calls.Load(); n != 0 {
		logFailures(t, o.Samples())
		t.Errorf("onBreach called %d times for a healthy server", n)
	}
}

func TestObserverWatchBeforeTraffic(t *testing.T) {
	o, err := NewObserver(watchCfg("http://127.0.0.1:30080/"))
	if err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, o, watchSLO)
	time.Sleep(300 * time.Millisecond)
	w.stop()
	if n := w.calls.Load(); n != 0 {
		t.Errorf("onBreach called %d times with no traffic started", n)
	}
}
