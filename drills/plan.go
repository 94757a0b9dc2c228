package drills

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/rollback"
)

// PlannedDrill is what one drill of a scenario would do, for `firedrill
// plan`: worked out with no cluster write, and no cluster at all but for
// the optional check of which faults the cluster can run.
type PlannedDrill struct {
	Scenario, Namespace string
	Machinery, Summary  string
	Detection           string
	Objects             []string
	Canary              string
	Faults              []PlannedFault
	SLO, Budget         string
}

// PlannedFault is one fault of a plan: its kind and backend, whose pods it
// hits (the machinery's selector), when it starts, and whether the cluster
// can run it ("" when it was not checked).
type PlannedFault struct {
	Kind, Backend, Target, Selector, Start string
	// IfHarnessDies says what ends the fault should firedrill die.
	IfHarnessDies string
	Runs          string
}

// unroutable is a client configuration no request can leave with: the
// machinery is built for its placement and objects, and nothing else.
var unroutable = &rest.Config{Host: "https://plan.invalid"}

// Plan describes a drill of s. With check set, each fault says whether
// host can run it, and why not.
func Plan(s Scenario, host faults.Host, check bool) (PlannedDrill, error) {
	if err := s.Validate(); err != nil {
		return PlannedDrill{}, err
	}
	spec, err := s.machinery()
	if err != nil {
		return PlannedDrill{}, err
	}
	ns := appcontract.DrillNamespace(s.Name, "<id>")
	m, err := buildForPlan(spec, s, ns)
	if err != nil {
		return PlannedDrill{}, err
	}
	p := PlannedDrill{
		Scenario: s.Name, Namespace: ns, Machinery: spec.Name, Summary: spec.Summary,
		Detection: detectionText(s.Detection), Canary: canaryText(s),
		SLO:    sloText(s.SLO),
		Budget: fmt.Sprintf("MTTR %s%s", s.Budget, errorBudgetText(s.MaxErrorBudget)),
	}
	if d, ok := m.(rollback.Describer); ok {
		p.Objects = d.Creates()
	}
	for _, f := range s.Faults {
		p.Faults = append(p.Faults, planFault(f, m.Placement(), host, check))
	}
	return p, nil
}

func buildForPlan(spec rollback.Spec, s Scenario, ns string) (rollback.Machinery, error) {
	client, err := kubernetes.NewForConfig(unroutable)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(unroutable)
	if err != nil {
		return nil, err
	}
	env := rollback.Env{Client: client, Dynamic: dyn, Namespace: ns, Image: "<sample app image>",
		Detection: s.Detection, Prometheus: rollback.DefaultPrometheus, FlagServerImage: "<flag server image>", FlaggerImage: "<flagger image>"}
	if len(s.Calibrate) > 0 {
		env.Detection = rollback.DetectHarness
	}
	plan := s.plan()
	plan.Detection = env.Detection
	return spec.Build(env, plan)
}

func planFault(f faults.Spec, pl rollback.Placement, host faults.Host, check bool) PlannedFault {
	pf := PlannedFault{Kind: f.Kind, Backend: f.Backend, Target: string(f.Target), Start: startText(f.Start)}
	switch f.Target {
	case faults.TargetCanary:
		pf.Selector = pl.Canary.Selector
	case faults.TargetStable:
		pf.Selector = pl.Stable.Selector
	case faults.TargetDependency:
		pf.Selector = pl.Dependency.Selector + " (the app's dependency)"
	default:
		pf.Selector = "ConfigMap " + pl.ConfigMap
	}
	pf.IfHarnessDies = ifHarnessDies(f, f.Backend)
	if !check {
		return pf
	}
	backend, skip, err := faults.Resolve(host, f)
	if err == nil {
		pf.IfHarnessDies = ifHarnessDies(f, backend)
	}
	switch {
	case err != nil:
		pf.Runs = "no: " + err.Error()
	case skip != "":
		pf.Backend, pf.Runs = backend, "no: "+skip
	default:
		pf.Backend, pf.Runs = backend, "yes"
	}
	return pf
}

// ifHarnessDies says what ends the fault should the harness die, for the
// backend (the kind's default when none is named yet).
func ifHarnessDies(f faults.Spec, backend string) string {
	k, err := faults.Lookup(f.Kind)
	if err != nil {
		return ""
	}
	if backend == "" {
		backend = k.Backends[0]
	}
	return k.IfHarnessDies[backend]
}

func startText(s faults.Start) string {
	var t string
	switch s.When {
	case faults.StartAtCanary:
		t = "when the canary starts"
	case faults.StartOnCanaryTraffic:
		t = fmt.Sprintf("once the canary serves %d%% of requests", s.Percent)
	case faults.StartAfter:
		return fmt.Sprintf("%s after the canary starts", s.After)
	default:
		t = string(s.When)
	}
	if s.After > 0 {
		t += fmt.Sprintf(", %s later", s.After)
	}
	return t
}

func detectionText(d rollback.Detection) string {
	switch d {
	case rollback.DetectHarness:
		return rollback.DetectedByHarness + " (calls the machinery's alert hook)"
	case rollback.DetectKubernetes:
		return rollback.DetectedByKubernetes
	}
	return string(d) + " (the machinery's own)"
}

func canaryText(s Scenario) string {
	v := s.canaryVersion()
	if len(s.Calibrate) > 0 {
		return fmt.Sprintf("none: %d injected outages", len(s.Calibrate))
	}
	t := v.Name
	if len(v.Env) > 0 {
		var knobs []string
		for _, k := range slices.Sorted(maps.Keys(v.Env)) {
			knobs = append(knobs, k+"="+v.Env[k])
		}
		t += " with " + strings.Join(knobs, " ")
	}
	if s.Fault.Kind != "" {
		t += fmt.Sprintf(" (fault %s, onset: %s)", s.Fault.Kind, s.Fault.Onset)
	}
	return t
}

func sloText(s SLO) string {
	t := fmt.Sprintf("at most %.0f%% errors over %s", 100*s.MaxErrorRatio, s.Window)
	if s.MaxP99 > 0 {
		t += fmt.Sprintf(", p99 under %s", s.MaxP99)
	}
	return t + fmt.Sprintf("; restored after %s clean", s.stability().Round(time.Millisecond))
}

func errorBudgetText(limit float64) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(", at most %.0f%% of requests failed", 100*limit)
}

// Write prints the plan, one field per line.
func (p PlannedDrill) Write(w io.Writer) {
	fmt.Fprintf(w, "drill %s\n", p.Scenario)
	fmt.Fprintf(w, "  namespace  %s (labels %s=true, %s=%s, %s=<run>)\n", p.Namespace, LabelDrill, LabelScenario, p.Scenario, LabelRun)
	fmt.Fprintf(w, "  machinery  %s: %s\n", p.Machinery, p.Summary)
	if len(p.Objects) > 0 {
		fmt.Fprintf(w, "  objects    %s\n", strings.Join(p.Objects, ", "))
	}
	fmt.Fprintf(w, "  canary     %s\n", p.Canary)
	for _, f := range p.Faults {
		line := fmt.Sprintf("  fault      %s", f.Kind)
		if f.Backend != "" {
			line += " (" + f.Backend + ")"
		}
		line += fmt.Sprintf(" on %s, %s", f.Selector, f.Start)
		if f.Runs != "" {
			line += "; this cluster can run it: " + f.Runs
		}
		fmt.Fprintln(w, line)
		if f.IfHarnessDies != "" {
			fmt.Fprintf(w, "             if firedrill dies: %s\n", f.IfHarnessDies)
		}
	}
	fmt.Fprintf(w, "  detection  %s\n", p.Detection)
	fmt.Fprintf(w, "  SLO        %s\n", p.SLO)
	fmt.Fprintf(w, "  budget     %s\n", p.Budget)
}
