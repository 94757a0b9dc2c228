package drills

import (
	"fmt"
	"regexp"
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
	// the app fails every request for exactly this long.
	Calibrate time.Duration
	// Faults are injected during the canary; the first confirmed onset is
	// the drill's onset. faults.Kinds lists the kinds.
	Faults []faults.Spec
	// Expect is what the drill checks: ExpectRollback (the default) or
	// ExpectSteady (no rollback; service must recover within the budget).
	Expect Expect
	// HoldSLO, for a steady drill, requires the SLO never to break.
	HoldSLO bool
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
)

// Onset says how a fault's onset is confirmed on the data plane or the API.
type Onset string

const (
	// OnsetCanaryServesErrors: the observer saw a failed answer from the
	// canary version (X-App-Version), so the fault reached users.
	OnsetCanaryServesErrors Onset = "canary-serves-errors"
	// OnsetCanaryCrashes: the API shows a canary container that exited with
	// an error.
	OnsetCanaryCrashes Onset = "canary-crashes"
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
	if s.Calibrate > 0 {
		return s.checkCalibration()
	}
	for _, err := range []error{
		s.checkVersions(),
		s.checkMachinery(),
		s.checkFault(),
		wrap(s.Name, "slo", s.SLO.Validate()),
		s.checkBudget(),
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
	return rollback.Plan{Stable: s.Stable, Canary: s.canaryVersion(), Detection: s.Detection}
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
	switch s.Fault.Onset {
	case OnsetCanaryServesErrors, OnsetCanaryCrashes:
	default:
		return fmt.Errorf("scenario %s: fault onset %q: want %q or %q", s.Name, s.Fault.Onset, OnsetCanaryServesErrors, OnsetCanaryCrashes)
	}
	if s.Fault.Kind == "" {
		return fmt.Errorf("scenario %s: fault kind is empty", s.Name)
	}
	if len(s.Faults) > 0 {
		return fmt.Errorf("scenario %s: a canary fault and injected faults both define onset: use one", s.Name)
	}
	return nil
}

func (s Scenario) checkBudget() error {
	if s.Budget <= 0 {
		return fmt.Errorf("scenario %s: MTTR budget %s must be positive", s.Name, s.Budget)
	}
	return s.checkRate()
}

func (s Scenario) checkRate() error {
	if s.Rate < 0 || s.Rate > 2000 {
		return fmt.Errorf("scenario %s: observer rate %d Hz: want 1..2000 (0 for the default 50)", s.Name, s.Rate)
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
	case s.Calibrate > 10*time.Minute:
		return fmt.Errorf("scenario %s: calibration outage %s is over 10m", s.Name, s.Calibrate)
	}
	return s.checkRate()
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
