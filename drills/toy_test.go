package drills

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kubetest"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// toyApp is a user path whose answers the toy machinery and toy fault
// control: which version serves, and whether the canary fails. The fault
// hits only the canary, so rolling back to v1 heals it.
type toyApp struct {
	version atomic.Value
	failing atomic.Bool
}

const toyStable = "v1"

func (a *toyApp) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set(appcontract.VersionHeader, a.version.Load().(string))
	if a.failing.Load() && a.version.Load() != toyStable {
		http.Error(w, "toy failure", http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "ok")
}

// toyMachinery is written against rollback.Machinery alone: it "deploys" by
// switching the toy app, and rolls back on the alert hook.
type toyMachinery struct {
	app            *toyApp
	stable, canary rollback.Version
	fired          chan string
	rollBackSteady bool // roll back even in a steady drill
	mu             sync.Mutex
	serving        string
}

func (m *toyMachinery) Name() string { return "toy" }
func (m *toyMachinery) DeployStable(_ context.Context, v rollback.Version) error {
	m.set(v.Name)
	return nil
}
func (m *toyMachinery) StartCanary(_ context.Context, v rollback.Version) error {
	m.set(v.Name)
	if m.rollBackSteady {
		time.AfterFunc(1500*time.Millisecond, func() { m.fired <- "rolls back whatever happens" })
	}
	return nil
}
func (m *toyMachinery) set(version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serving = version
	m.app.version.Store(version)
}
func (m *toyMachinery) Placement() rollback.Placement {
	return rollback.Placement{
		Stable: rollback.Where{Selector: "toy=stable", Labels: map[string]string{"toy": "stable"}},
		Canary: rollback.Where{Selector: "toy=canary", Labels: map[string]string{"toy": "canary"}},
		All:    "toy=all",
	}
}
func (m *toyMachinery) Serving(context.Context) (rollback.Serving, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return rollback.Serving{Versions: []string{m.serving}, Detail: "toy serves " + m.serving}, nil
}
func (m *toyMachinery) Trigger(_ context.Context, reason string) error {
	select {
	case m.fired <- reason:
	default:
	}
	return nil
}
func (m *toyMachinery) AwaitRollback(ctx context.Context) (rollback.Outcome, error) {
	select {
	case reason := <-m.fired:
		decided := time.Now()
		m.set(m.stable.Name)
		return rollback.Outcome{DetectedBy: rollback.DetectedByHarness, Reason: reason, Decided: decided, Actuated: time.Now(),
			Actuation: "toy switched back", Evidence: []rollback.Evidence{{Name: "toy", Value: "switched"}}}, nil
	case <-ctx.Done():
		return rollback.Outcome{}, ctx.Err()
	}
}

// toyFault breaks the toy app; its site must come from the toy placement.
type toyFault struct {
	app  *toyApp
	site faults.Site
}

func (f *toyFault) Name() string    { return "toy-break" }
func (f *toyFault) Backend() string { return "toy" }
func (f *toyFault) Inject(context.Context) (time.Time, error) {
	if f.site.Selector != "toy=canary" {
		return time.Time{}, fmt.Errorf("toy fault got site %q, want the toy machinery's canary", f.site.Selector)
	}
	f.app.failing.Store(true)
	return time.Now(), nil
}
func (f *toyFault) Recover(context.Context) error { f.app.failing.Store(false); return nil }
func (f *toyFault) Verify(context.Context) error  { return nil }

var (
	toyOnce sync.Once
	toyNow  struct {
		sync.Mutex
		app            *toyApp
		rollBackSteady bool
	}
)

// registerToys registers the toy machinery and the toy fault kind, as a new
// machinery file and a new fault file would, with no engine change.
func registerToys() {
	toyOnce.Do(func() {
		rollback.Register(rollback.Spec{
			Name: "toy", Summary: "switches a local test server", Separate: true,
			Check: func(p rollback.Plan) error {
				if p.Canary.Replicas != 0 {
					return fmt.Errorf("canary.replicas %d: the toy has no replicas", p.Canary.Replicas)
				}
				return nil
			},
			New: func(_ rollback.Env, p rollback.Plan) (rollback.Machinery, error) {
				toyNow.Lock()
				defer toyNow.Unlock()
				return &toyMachinery{app: toyNow.app, stable: p.Stable, canary: p.Canary, fired: make(chan string, 1), rollBackSteady: toyNow.rollBackSteady}, nil
			},
		})
		faults.Register(faults.Kind{
			Name: "toy-missing", Backends: []string{"toy"}, IfHarnessDies: map[string]string{"toy": "nothing is left"},
			Fields:      map[string][]faults.Field{"toy": {faults.FieldTarget}},
			Unavailable: func(faults.Host, string) string { return "this host has no toys" },
			Build: func(context.Context, faults.Env, faults.Spec, string) (faults.Fault, error) {
				return nil, fmt.Errorf("toy-missing was built although it cannot run here")
			},
		})
		faults.Register(faults.Kind{
			Name: "toy-break", Backends: []string{"toy"}, IfHarnessDies: map[string]string{"toy": "the toy server heals at its duration"},
			Fields:      map[string][]faults.Field{"toy": {faults.FieldTarget, faults.FieldDuration}},
			Unavailable: func(faults.Host, string) string { return "" },
			Build: func(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
				toyNow.Lock()
				defer toyNow.Unlock()
				return &toyFault{app: toyNow.app, site: env.Site(spec.Target)}, nil
			},
			Effect: func(faults.Spec) *faults.Effect {
				return &faults.Effect{Describe: "a toy failure seen", Seen: func(failed bool, _ time.Duration) bool { return failed }}
			},
		})
	})
}

// toyScenario breaks the canary with the toy fault once it serves.
func toyScenario(expect Expect) Scenario {
	return Scenario{
		Name: "toy", Machinery: "toy",
		Stable:    rollback.Version{Name: toyStable, Replicas: 1},
		Canary:    rollback.Version{Name: "v2"},
		Faults:    []faults.Spec{{Kind: "toy-break", Target: faults.TargetCanary, Start: faults.Start{When: faults.StartAtCanary}}},
		Detection: rollback.DetectHarness,
		Expect:    expect,
		SLO:       SLO{MaxErrorRatio: 0.05, Window: time.Second, Stability: time.Second},
		Budget:    30 * time.Second,
	}
}

// runToy runs every phase of a drill of s against a fake clientset and a
// local user path, and returns its report.
func runToy(t *testing.T, s Scenario, rollBackSteady bool) *reports.Report {
	t.Helper()
	registerToys()
	app := &toyApp{}
	app.version.Store("none")
	toyNow.Lock()
	toyNow.app, toyNow.rollBackSteady = app, rollBackSteady
	toyNow.Unlock()
	srv := localServer(t, app)
	c := &cluster.Cluster{Kind: "kind", Name: "toy", Client: kubetest.FakeClient(t)}
	ctx := kubetest.Context(t)
	d, err := New(ctx, c, s, Options{Image: "toy:1", URL: srv.URL, RunDir: t.TempDir(), Timeouts: Timeouts{SteadyWindow: time.Second}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = d.Cleanup(context.WithoutCancel(ctx)) })
	steps := []func(context.Context) error{d.CreateNamespace, d.DeployStable, d.StartObserver, d.AwaitSteadyState, d.StartCanary, d.ConfirmOnset, d.AwaitRollback, d.ConfirmRestored}
	for i, step := range steps {
		if err := step(ctx); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return d.Report("")
}

func TestToyMachineryAndFaultPlugIn(t *testing.T) {
	r := runToy(t, toyScenario(ExpectRollback), false)
	if r.Verdict != reports.VerdictPass {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
	}
	if r.Machinery != "toy" || r.DetectedBy != rollback.DetectedByHarness || r.ServedVersionAfter != "v1" {
		t.Errorf("report machinery %q, detected by %q, served after %q; want toy, the harness, v1", r.Machinery, r.DetectedBy, r.ServedVersionAfter)
	}
	if len(r.MachineryEvidence) == 0 || r.MachineryEvidence[0] != (reports.Evidence{Name: "toy", Value: "switched"}) {
		t.Errorf("machinery evidence %v, want the toy's own", r.MachineryEvidence)
	}
	if len(r.Faults) != 1 || r.Faults[0].Kind != "toy-break" || r.Faults[0].Confirmed.IsZero() {
		t.Errorf("fault records %+v, want the toy fault confirmed", r.Faults)
	}
}

func TestSteadyDrillFailsWhenMachineryRollsBack(t *testing.T) {
	// The fault heals by itself after a moment; the toy machinery rolls
	// back as soon as the canary starts, which a steady drill must catch.
	s := toyScenario(ExpectSteady)
	s.Faults[0].Duration = 500 * time.Millisecond
	r := runToy(t, s, true)
	if r.Verdict != reports.VerdictFail || !strings.Contains(r.Reason, "steady drill, but the machinery rolled back") {
		t.Errorf("verdict %s: %q; want a fail saying the machinery rolled back", r.Verdict, r.Reason)
	}
}

func TestScenarioRefusesWhatTheMachineryCannotHonour(t *testing.T) {
	registerToys()
	s := toyScenario(ExpectRollback)
	s.Canary.Replicas = 2
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "machinery toy: canary.replicas 2") {
		t.Errorf("Validate() = %v, want the toy's canary.replicas refusal", err)
	}
	s = toyScenario(ExpectRollback)
	s.Machinery = "psychic"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `unknown machinery "psychic"`) {
		t.Errorf("Validate() = %v, want the unknown machinery named", err)
	}
}

func TestSkippedBeforeAnythingIsCreated(t *testing.T) {
	registerToys()
	s := toyScenario(ExpectRollback)
	s.Faults[0].Kind = "toy-missing"
	client := kubetest.FakeClient(t)
	c := &cluster.Cluster{Kind: "kind", Name: "toy", Client: client}
	d, err := New(kubetest.Context(t), c, s, Options{Image: "toy:1", URL: "http://127.0.0.1:1/", RunDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := d.SkipReason(); got != "skipped: this host has no toys" {
		t.Errorf("SkipReason() = %q, want the kind's reason", got)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("a skipped drill touched the cluster: %v", client.Actions())
	}
	r := d.Report("")
	if r.Verdict != reports.VerdictSkipped || !strings.Contains(r.Reason, "no toys") {
		t.Errorf("verdict %s: %q; want skipped with the reason", r.Verdict, r.Reason)
	}
	if len(r.Faults) != 1 || !r.Faults[0].Skipped || r.Faults[0].SkipReason != "this host has no toys" {
		t.Errorf("fault records %+v, want the skipped fault with its reason", r.Faults)
	}
	if err := d.InjectFaults(kubetest.Context(t)); !errors.Is(err, ErrSkipped) {
		t.Errorf("InjectFaults() = %v, want ErrSkipped", err)
	}
}
