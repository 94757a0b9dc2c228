package drills

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/rollback"
)

// Scenario is a drill described as data: what to deploy, how the canary
// goes bad, which machinery must roll it back, the SLO and the MTTR budget.
type Scenario struct {
	// Name identifies the scenario; it is part of the namespace name, so it
	// must be a short DNS label.
	Name string
	// Labels are Ginkgo-style labels such as "fault:pod-kill"; the suite adds "machinery:<name>" itself.
	Labels []string
	// Stable is the known-good version.
	Stable rollback.Version
	// Canary is the new version. What its Replicas mean is the
	// machinery's call (its Check says): the canary's replicas beside the
	// stable ones, or 0 where the machinery sizes the new version itself.
	Canary rollback.Version
	// Machinery names the rollback machinery (rollback.Names lists them);
	// empty takes rollback.CanaryHook.
	Machinery string
	// Fault says how the canary goes bad and how onset is confirmed.
	Fault CanaryFault
	// Detection says what detects the bad canary: Kubernetes signals, or
	// the harness SLO monitor firing the machinery's rollback hook.
	Detection rollback.Detection
	// SLO is what "service is healthy" means for the user path.
	SLO SLO
	// Budget is the MTTR budget: restored minus onset must not exceed it.
	Budget time.Duration
	// Rate is the observer's request rate in Hz (default 50).
	Rate int
	// Calibrate, when set, makes this a calibration drill: no canary, and
	// the app fails requests for each outage in turn (DefaultOutages).
	Calibrate []Outage
	// Faults are injected during the canary; the first confirmed onset is
	// the drill's onset. faults.Kinds lists the kinds.
	Faults []faults.Spec
	// Expect is what the drill checks: ExpectRollback (the default) or
	// ExpectSteady (no rollback; service must recover within the budget).
	Expect Expect
	// HoldSLO, for a steady drill, requires the SLO never to break.
	HoldSLO bool
	// CanaryDark, for a steady drill, requires the canary to serve nobody
	// while its first fault lasts (after DarkGrace): the fault takes away
	// what turns the new version on, such as the flag server, and the app
	// must fall back to the old path rather than fail.
	CanaryDark bool
	// MaxErrorBudget, when set, fails the drill if more than this share of
	// user requests failed between injection and restored.
	MaxErrorBudget float64
	// Guard is the drill's own stop conditions (zero fields take the
	// defaults: the stable version failing over half its requests for
	// 15 s, a 10 min wall-clock cap).
	Guard Guard
	// MachineryConfig is the machinery's own configuration, such as the
	// team's AnalysisTemplates and Rollout strategy for argo-rollouts;
	// empty takes the machinery's default.
	MachineryConfig rollback.Config
}

// Expect says what a drill expects of the machinery.
type Expect string

const (
	// ExpectRollback: the machinery must roll the canary back and service
	// must be restored within the budget.
	ExpectRollback Expect = ""
	// ExpectSteady: the canary stays; the SLO must be restored (or never
	// breached) within the budget without a rollback.
	ExpectSteady Expect = "steady"
	// ExpectPromoted: a steady drill whose machinery must also complete
	// the rollout, promoting the canary, with no abort.
	ExpectPromoted Expect = "promoted"
)

// expectations are the Expect values a scenario may name.
var expectations = []Expect{ExpectRollback, ExpectSteady, ExpectPromoted}

// Steady reports whether the drill expects no rollback.
func (e Expect) Steady() bool { return e == ExpectSteady || e == ExpectPromoted }

// Onset says how a fault's onset is confirmed on the data plane or the API.
type Onset string

const (
	// OnsetCanaryServesErrors: the observer saw a failed answer from the
	// canary version (X-App-Version), so the fault reached users.
	OnsetCanaryServesErrors Onset = "canary-serves-errors"
	// OnsetCanaryCrashes: the API shows a canary container that exited with
	// an error.
	OnsetCanaryCrashes Onset = "canary-crashes"
	// OnsetCanarySlow: the observer saw the canary version answer slower
	// than the SLO's latency bound.
	OnsetCanarySlow Onset = "canary-slow"
	// OnsetCanaryTestErrors: the harness's test request to the machinery's
	// test Service (Placement.Test) got a failed answer from the canary
	// version. It is the onset of a machinery that gives users no share of
	// the canary (Flagger's blue-green), where users cannot see it.
	OnsetCanaryTestErrors Onset = "canary-test-errors"
)

// CanaryFault is a fault carried by the canary version itself: the sample
// app's fault knobs set in the canary's environment.
type CanaryFault struct {
	// Kind names the fault in labels and reports, e.g. "bad-version".
	Kind string
	// Env is added to the canary's environment (ERROR_RATIO, CRASH_ON_START…).
	Env map[string]string
	// Onset says how onset is confirmed.
	Onset Onset
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks a scenario before anything is created, so bad input
// fails with one line naming the field and leaves nothing in the cluster.
func (s Scenario) Validate() error {
	if !dnsLabel.MatchString(s.Name) || len(s.Name) > 40 {
		return fmt.Errorf("scenario name %q: want a lowercase DNS label of at most 40 characters", s.Name)
	}
	if len(s.Calibrate) > 0 {
		return s.checkCalibration()
	}
	for _, err := range []error{
		s.checkVersions(),
		s.checkExpect(),
		s.checkMachinery(),
		s.checkFault(),
		s.checkSLO(),
		s.checkBudget(),
		s.checkStartShare(),
		s.checkGuard(),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s Scenario) checkVersions() error {
	switch {
	case s.Stable.Name == "" || s.Canary.Name == "":
		return fmt.Errorf("scenario %s: stable and canary versions need names", s.Name)
	case s.Stable.Name == s.Canary.Name:
		return fmt.Errorf("scenario %s: canary version %q equals the stable version", s.Name, s.Canary.Name)
	case s.Stable.Replicas < 1:
		return fmt.Errorf("scenario %s: stable.replicas %d: want at least 1", s.Name, s.Stable.Replicas)
	}
	return nil
}

// MachineryName is the machinery the scenario runs under.
func (s Scenario) MachineryName() string {
	if s.Machinery == "" {
		return rollback.CanaryHook
	}
	return s.Machinery
}

// machinery is the registered machinery the scenario names.
func (s Scenario) machinery() (rollback.Spec, error) {
	return rollback.Lookup(s.MachineryName())
}

// plan is what the scenario asks of its machinery.
func (s Scenario) plan() rollback.Plan {
	return rollback.Plan{Stable: s.Stable, Canary: s.canaryVersion(), Detection: s.Detection, Config: s.MachineryConfig}
}

func (s Scenario) checkMachinery() error {
	m, err := s.machinery()
	if err != nil {
		return fmt.Errorf("scenario %s: machinery: %w", s.Name, err)
	}
	if err := m.Check(s.plan()); err != nil {
		return fmt.Errorf("scenario %s: machinery %s: %w", s.Name, m.Name, err)
	}
	return nil
}

func (s Scenario) checkFault() error {
	m, _ := s.machinery()
	for i, f := range s.Faults {
		if err := faults.Check(f, m.Separate); err != nil {
			return fmt.Errorf("scenario %s: faults[%d]: %w", s.Name, i, err)
		}
	}
	if len(s.Faults) > 0 && s.Fault.Onset == "" {
		return nil
	}
	if err := s.checkOnsetSeen(m); err != nil {
		return err
	}
	switch s.Fault.Onset {
	case OnsetCanaryServesErrors, OnsetCanaryCrashes, OnsetCanaryTestErrors:
	case OnsetCanarySlow:
		if s.SLO.MaxP99 == 0 {
			return fmt.Errorf("scenario %s: fault onset %q needs slo.maxP99, the latency a slow answer exceeds", s.Name, s.Fault.Onset)
		}
	default:
		return fmt.Errorf("scenario %s: fault onset %q: want %q, %q, %q or %q", s.Name, s.Fault.Onset, OnsetCanaryServesErrors, OnsetCanaryCrashes, OnsetCanarySlow, OnsetCanaryTestErrors)
	}
	if s.Fault.Kind == "" {
		return fmt.Errorf("scenario %s: fault kind is empty", s.Name)
	}
	if len(s.Faults) > 0 {
		return fmt.Errorf("scenario %s: a canary fault and injected faults both define onset: use one", s.Name)
	}
	return nil
}

func (s Scenario) checkExpect() error {
	if !slices.Contains(expectations, s.Expect) {
		return fmt.Errorf("scenario %s: expect %q: want %q (rollback), %q or %q", s.Name, s.Expect, ExpectRollback, ExpectSteady, ExpectPromoted)
	}
	if s.CanaryDark && (!s.Expect.Steady() || len(s.Faults) == 0 || s.Faults[0].Duration <= DarkGrace) {
		return fmt.Errorf("scenario %s: canaryDark needs a steady drill whose first fault lasts longer than %s", s.Name, DarkGrace)
	}
	if s.HoldSLO && !s.Expect.Steady() {
		return fmt.Errorf("scenario %s: holdSLO: only a steady drill can hold the SLO through its fault", s.Name)
	}
	if math.IsNaN(s.MaxErrorBudget) || s.MaxErrorBudget < 0 || s.MaxErrorBudget >= 1 {
		return fmt.Errorf("scenario %s: maxErrorBudget %v: want a share in [0, 1), 0 for no limit", s.Name, s.MaxErrorBudget)
	}
	return nil
}

// checkSLO refuses an SLO that is malformed or that cannot fail, and a
// window too short to judge at the observer's rate.
func (s Scenario) checkSLO() error {
	if err := s.SLO.Validate(); err != nil {
		return wrap(s.Name, "slo", err)
	}
	if s.SLO.MaxErrorRatio >= 1 && s.SLO.MaxP99 == 0 {
		return fmt.Errorf("scenario %s: slo.maxErrorRatio %v with no latency bound can never fail: no outage would be seen", s.Name, s.SLO.MaxErrorRatio)
	}
	return s.checkWindow(s.SLO.Window)
}

// checkWindow refuses a window that holds fewer than MinWindowSamples
// requests at the observer's rate.
func (s Scenario) checkWindow(window time.Duration) error {
	if err := s.checkRate(); err != nil {
		return err
	}
	if n := int(window.Seconds() * float64(s.rate())); n < MinWindowSamples {
		return fmt.Errorf("scenario %s: slo.window %s holds %d requests at %d Hz: want at least %d", s.Name, window, n, s.rate(), MinWindowSamples)
	}
	return nil
}

func (s Scenario) checkBudget() error {
	if s.Budget <= 0 {
		return fmt.Errorf("scenario %s: MTTR budget %s must be positive", s.Name, s.Budget)
	}
	return nil
}

// MinRate is the slowest observer rate a drill accepts: at 20 Hz an instant
// is known to within 50 ms. MinWindowSamples is the fewest requests an SLO
// window must hold for its ratio to mean anything.
const (
	MinRate          = 20
	MinWindowSamples = 20
)

// rate is the observer rate with its default.
func (s Scenario) rate() int {
	if s.Rate == 0 {
		return DefaultObserverRate
	}
	return s.Rate
}

func (s Scenario) checkRate() error {
	if s.Rate != 0 && (s.Rate < MinRate || s.Rate > MaxObserverRate) {
		return fmt.Errorf("scenario %s: rate %d Hz: want %d..%d (0 for the default %d)", s.Name, s.Rate, MinRate, MaxObserverRate, DefaultObserverRate)
	}
	return nil
}

// checkOnsetSeen refuses a data-plane onset users cannot see: under a
// machinery that gives users no share of the canary, onset must come from
// test traffic or from the API.
func (s Scenario) checkOnsetSeen(m rollback.Spec) error {
	users := m.CanaryShare(s.plan()) > 0
	switch o := s.Fault.Onset; {
	case !users && (o == OnsetCanaryServesErrors || o == OnsetCanarySlow):
		return fmt.Errorf("scenario %s: fault onset %q: users never reach the canary under %s; use %q or %q", s.Name, o, m.Name, OnsetCanaryTestErrors, OnsetCanaryCrashes)
	case users && o == OnsetCanaryTestErrors:
		return fmt.Errorf("scenario %s: fault onset %q: users reach the canary under %s; use %q", s.Name, o, m.Name, OnsetCanaryServesErrors)
	}
	return nil
}

// checkStartShare refuses a fault that waits for a canary share the
// machinery never gives the canary.
func (s Scenario) checkStartShare() error {
	m, _ := s.machinery()
	share := m.CanaryShare(s.plan())
	for i, f := range s.Faults {
		if f.Start.When == faults.StartOnCanaryTraffic && float64(f.Start.Percent)/100 > share {
			return fmt.Errorf("scenario %s: faults[%d].start.percent %d: %s gives the canary at most %.0f%% of traffic", s.Name, i, f.Start.Percent, m.Name, 100*share)
		}
	}
	return nil
}

func wrap(scenario, field string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("scenario %s: %s: %w", scenario, field, err)
}

// canaryVersion is the canary with the fault's knobs in its environment.
func (s Scenario) canaryVersion() rollback.Version {
	v := s.Canary
	env := map[string]string{}
	for k, val := range s.Canary.Env {
		env[k] = val
	}
	for k, val := range s.Fault.Env {
		env[k] = val
	}
	v.Env = env
	return v
}

func (s Scenario) checkCalibration() error {
	switch {
	case s.Stable.Name == "" || s.Stable.Replicas < 1:
		return fmt.Errorf("scenario %s: calibration needs a named stable version with at least 1 replica", s.Name)
	}
	for i, o := range s.Calibrate {
		if o.Length <= 0 || o.Length > 10*time.Minute || !(o.Ratio > 0 && o.Ratio <= 1) {
			return fmt.Errorf("scenario %s: calibrate[%d] %s: want a length in (0, 10m] and a ratio in (0, 1]", s.Name, i, o)
		}
	}
	return s.checkSLO()
}

// faultKinds names the scenario's faults for logs and reports.
func (s Scenario) faultKinds() string {
	if len(s.Faults) == 0 {
		return s.Fault.Kind
	}
	kinds := make([]string, len(s.Faults))
	for i, f := range s.Faults {
		kinds[i] = f.Kind
	}
	return strings.Join(kinds, ", ")
}

func (s Scenario) checkGuard() error {
	if err := s.Guard.validate(); err != nil {
		return fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return nil
}
