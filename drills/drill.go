package drills

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/firedrill-dev/firedrill/cluster"
	// The fault kinds register themselves; drills looks them up by name.
	"github.com/firedrill-dev/firedrill/faults"
	_ "github.com/firedrill-dev/firedrill/faults/kinds"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/audit"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Labels put on every drill namespace so a later sweep can find leftovers.
const (
	LabelDrill    = "firedrill.dev/drill"
	LabelScenario = "firedrill.dev/scenario"
	LabelRun      = "firedrill.dev/run"
)

// Timeline event names; the five MTTR marks plus the drill's own steps.
const (
	EventStart         = "start"
	EventStableReady   = "stable-ready"
	EventObserving     = "observing"
	EventSteadyState   = "steady-state"
	EventCanaryStarted = "canary-started"
	EventInjected      = "injected"
	EventOnset         = "onset"
	EventFirstFailure  = "first-failure"
	EventLastFailure   = "last-failure"
	EventAlert         = "alert"
	EventAlertFailed   = "alert-failed"
	// EventMachineryError: the machinery's own wait or action failed.
	EventMachineryError = "machinery-error"
	EventDetected       = "detected"
	EventDecided        = "decided"
	EventActuated       = "actuated"
	EventRestored       = "restored"
	// EventSLOBreach is the harness's first SLO breach when the machinery
	// detected by itself: kept beside the machinery's detected mark for
	// comparison.
	EventSLOBreach = "slo-breach"
	// EventPromoted: the machinery promoted the new version instead of
	// rolling it back.
	EventPromoted = "promoted"
	// EventDeclaredHealthy: the budget ran out with no decision, and the
	// machinery still called the new version healthy.
	EventDeclaredHealthy = "declared-healthy"
	// EventUndecided: the budget ran out with no decision, and the
	// machinery did not call the new version healthy: the drill waits on.
	EventUndecided = "undecided"
	// EventStopped: a stop condition fired; the drill removed its faults
	// and aborted.
	EventStopped = "stopped"
)

// Options are the drill's environment: where the app images are, how the
// observer reaches the user path, where reports go.
type Options struct {
	// Image is the sample app image of versions that name none and are not
	// in Images; it must be present on the nodes.
	Image string
	// Images maps a version name to its image (the sample app built as v1
	// and v2), so versions can differ by image and digest.
	Images map[string]string
	// NodePort is the Service's NodePort; URL is how the observer reaches it.
	NodePort int32
	URL      string
	// RunID labels the namespace with the suite run it belongs to.
	RunID string
	// RunDir is where the JSON report and evidence go.
	RunDir string
	// Log receives progress lines (may be nil).
	Log io.Writer
	// Timeouts bound each phase (zero fields take the defaults).
	Timeouts Timeouts
	// Faults is what injected faults need from the suite.
	Faults faults.Host
	// Repeat numbers this run when the scenario is repeated (1-based); 0
	// when it runs once.
	Repeat int
	// Prometheus is the server a machinery's analysis queries (zero takes
	// rollback.DefaultPrometheus, the one the suite installs).
	Prometheus rollback.PrometheusRef
	// FlagServerImage is the flag server image of the feature-flag
	// machinery; it must be present on the nodes.
	FlagServerImage string
	// FlaggerImage is the Flagger image, whose webhook receiver the flagger
	// machinery runs; it must be present on the nodes.
	FlaggerImage string
}

// Drill is one execution of a scenario against one cluster, in a namespace
// of its own. Its phase methods run in order; each returns an error rather
// than asserting, and Cleanup is always safe to call.
type Drill struct {
	Scenario  Scenario
	ID        string
	Namespace string

	cluster   *cluster.Cluster
	opts      Options
	machinery rollback.Machinery
	observer  *Observer

	// life outlives single phases: the machinery and the SLO monitor run in
	// the background from canary start until cleanup.
	life     context.Context
	stopLife context.CancelFunc

	mu       sync.Mutex
	t0       time.Time
	timeline []reports.Event
	bounds   map[string]Bound
	outcome  chan outcomeOrErr
	result   *Result
	planned  []*plannedFault
	// concurrent is the most other drills of the run seen at once.
	concurrent int
	// stopped is the stop condition that fired, "" while none did.
	stopped string
	// audit is the drill's audit log: its clients' writes, and the
	// changes others made in its namespace.
	audit *audit.Log
	// pods counts the app's pods from the steady state on.
	pods *podCounter
	// usersReachCanary says the machinery gives users a share of the
	// canary; when it does not, any user answer from the canary fails the
	// drill.
	usersReachCanary bool
}

type outcomeOrErr struct {
	out rollback.Outcome
	err error
}

// New checks the scenario and options and returns a drill; it creates
// nothing. The drill's background work (the machinery, the SLO monitor)
// keeps ctx's values but not its deadline, and ends at Cleanup.
func New(ctx context.Context, c *cluster.Cluster, s Scenario, opts Options) (*Drill, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Rate == 0 {
		s.Rate = 50
	}
	if opts.Image == "" {
		return nil, errors.New("drill: no sample app image (set FIREDRILL_SAMPLEAPP_IMAGE or run through make)")
	}
	if opts.URL == "" {
		return nil, errors.New("drill: no URL for the observer")
	}
	opts.Timeouts = withDefaults(opts.Timeouts)
	id := randomID()
	d := &Drill{
		Scenario: s, ID: id, Namespace: appcontract.DrillNamespace(s.Name, id),
		opts: opts, outcome: make(chan outcomeOrErr, 1),
	}
	if err := d.audited(c); err != nil {
		return nil, err
	}
	d.life, d.stopLife = context.WithCancel(context.WithoutCancel(ctx))
	// A new connection per request spreads traffic over pods by replica
	// share, as many users would; kept-alive connections stick to one pod.
	obs, err := NewObserver(ObserverConfig{URL: opts.URL, Rate: s.Rate, NewConnections: true})
	if err != nil {
		return nil, err
	}
	d.observer = obs
	if err := d.planFaults(); err != nil {
		return nil, err
	}
	if err := d.buildMachinery(); err != nil {
		return nil, err
	}
	return d, nil
}

// buildMachinery builds the scenario's machinery through the registry; it
// creates nothing in the cluster.
func (d *Drill) buildMachinery() error {
	spec, err := d.Scenario.machinery()
	if err != nil {
		return err
	}
	hook, err := d.podHook()
	if err != nil {
		return err
	}
	detection := d.Scenario.Detection
	if len(d.Scenario.Calibrate) > 0 {
		detection = rollback.DetectHarness
	}
	env := rollback.Env{
		Client: d.cluster.Client, Namespace: d.Namespace, Image: d.opts.Image, NodePort: d.opts.NodePort,
		Detection: detection, Log: d.opts.Log, Pods: hook, Prometheus: d.opts.Prometheus,
		FlagServerImage: d.opts.FlagServerImage, FlaggerImage: d.opts.FlaggerImage,
	}
	if env.Prometheus.Service == "" {
		env.Prometheus = rollback.DefaultPrometheus
	}
	if d.cluster.REST != nil {
		if env.Dynamic, err = dynamic.NewForConfig(d.cluster.REST); err != nil {
			return fmt.Errorf("dynamic client: %w", err)
		}
	}
	plan := d.Scenario.plan()
	plan.Stable, plan.Canary, plan.Detection = d.version(plan.Stable), d.version(plan.Canary), detection
	d.usersReachCanary = spec.CanaryShare(plan) > 0
	if d.machinery, err = spec.Build(env, plan); err != nil {
		return err
	}
	return d.checkDependency()
}

// checkDependency refuses a fault aimed at the app's dependency under a
// machinery that runs none.
func (d *Drill) checkDependency() error {
	for _, f := range d.Scenario.Faults {
		if f.Target == faults.TargetDependency && d.machinery.Placement().Dependency.Selector == "" {
			return fmt.Errorf("scenario %s: fault %s targets the dependency, but the %s machinery runs none", d.Scenario.Name, f.Kind, d.machinery.Name())
		}
	}
	return nil
}

// Preflight checks, before anything is written, that the cluster can run
// the drill's machinery (its controller is installed, its configuration is
// accepted); machineries that need nothing pass at once.
func (d *Drill) Preflight(ctx context.Context) error {
	p, ok := d.machinery.(rollback.Preflighter)
	if !ok {
		return nil
	}
	if err := p.Preflight(ctx); err != nil {
		return fmt.Errorf("scenario %s: %w", d.Scenario.Name, err)
	}
	return nil
}

// version fills in the image of a version that names none.
func (d *Drill) version(v rollback.Version) rollback.Version {
	if v.Image == "" {
		v.Image = d.opts.Images[v.Name]
	}
	return v
}

func withDefaults(t Timeouts) Timeouts {
	def := DefaultTimeouts()
	for _, f := range []struct{ got, def *time.Duration }{
		{&t.Namespace, &def.Namespace}, {&t.StableReady, &def.StableReady},
		{&t.SteadyState, &def.SteadyState}, {&t.SteadyWindow, &def.SteadyWindow},
		{&t.Onset, &def.Onset}, {&t.Rollback, &def.Rollback},
		{&t.Restore, &def.Restore}, {&t.Cleanup, &def.Cleanup},
	} {
		if *f.got == 0 {
			*f.got = *f.def
		}
	}
	return t
}

func randomID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (d *Drill) logf(format string, args ...any) {
	if d.opts.Log != nil {
		fmt.Fprintf(d.opts.Log, "drill %s: %s\n", d.Namespace, fmt.Sprintf(format, args...))
	}
}

// record adds a timeline event at the given instant.
func (d *Drill) record(name string, at time.Time, detail string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timeline = append(d.timeline, reports.Event{Name: name, At: at, Offset: reports.Duration(at.Sub(d.t0)), Detail: detail})
	d.logf("%-14s t0%+.3fs %s", name, at.Sub(d.t0).Seconds(), detail)
}

// mark records a timeline event that MTTR is computed from, with its bound.
func (d *Drill) mark(name string, at time.Time, b Bound, detail string) {
	d.record(name, at, detail)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bounds == nil {
		d.bounds = map[string]Bound{}
	}
	if _, ok := d.bounds[name]; !ok {
		d.bounds[name] = b
		for i := range d.timeline {
			if d.timeline[i].Name == name {
				d.timeline[i].Bound = b.Record()
				break
			}
		}
	}
}

// bound returns the bound recorded with a mark.
func (d *Drill) bound(name string) Bound {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bounds[name]
}

// event returns the first timeline event of that name.
func (d *Drill) event(name string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.timeline {
		if e.Name == name {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// phase bounds one step with its timeout and names it in errors.
// phase is a drill phase: phase, and it ends with ErrStopped as soon as a
// stop condition fires.
func (d *Drill) phase(ctx context.Context, name string, limit time.Duration, step func(context.Context) error) error {
	if err := d.stopErr(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.life, cancel)()
	err := phase(ctx, name, limit, step)
	if serr := d.stopErr(); serr != nil && err != nil {
		return fmt.Errorf("%s: %w", name, serr)
	}
	return err
}

func phase(ctx context.Context, name string, limit time.Duration, step func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(why(ctx, name), limit)
	defer cancel()
	if err := step(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: not done within %s: %w", name, limit, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (d *Drill) reportDir() string {
	return d.opts.RunDir
}

func (d *Drill) evidenceDir() string {
	return filepath.Join(d.opts.RunDir, d.Scenario.Name+"-"+d.ID)
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
