package chaosmesh

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Meta says where a chaos object lives: its name, the drill namespace, and
// labels such as the drill id that let cleanup find it.
type Meta struct {
	Name      string
	Namespace string
	Labels    map[string]string
}

// Target selects the pods a fault hits: pods in Namespace matching all of
// Labels, narrowed by Mode and Value.
type Target struct {
	Namespace string
	// Labels must not be empty: an empty Chaos Mesh selector matches every
	// pod in the namespace.
	Labels map[string]string
	// Mode defaults to v1alpha1.AllMode, so that a fault aimed at the
	// canary hits the whole canary rather than a random pod of it.
	Mode v1alpha1.SelectorMode
	// Value is the count (FixedMode) or percentage (FixedPercentMode,
	// RandomMaxPercentMode) of matching pods; it must be empty otherwise.
	Value string
}

// NamespaceError refuses a namespace that a drill's fault must not touch.
type NamespaceError struct {
	// Field is the refused input: meta.namespace, target.namespace or
	// other.namespace.
	Field     string
	Namespace string
	// Reason says why, e.g. "not a drill namespace (drill-*)".
	Reason string
}

func (e *NamespaceError) Error() string {
	verb := "target"
	if e.Field == "meta.namespace" {
		verb = "create chaos in"
	}
	return fmt.Sprintf("chaosmesh: refusing to %s namespace %q: %s", verb, e.Namespace, e.Reason)
}

// FieldError rejects one input of a builder, naming the fault and the field
// so that a scenario author can find the bad value.
type FieldError struct {
	// Fault is the builder's fault name, e.g. "pod-failure".
	Fault string
	// Field is the input, e.g. "duration" or "target.labels".
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("chaosmesh: %s: %s: %s", e.Fault, e.Field, e.Reason)
}

// IsDrillNamespace reports whether ns is named like a drill namespace.
func IsDrillNamespace(ns string) bool { return appcontract.IsDrillNamespace(ns) }

// checkMeta validates where the chaos object lives.
func checkMeta(fault string, m Meta) error {
	if !IsDrillNamespace(m.Namespace) {
		return &NamespaceError{Field: "meta.namespace", Namespace: m.Namespace, Reason: "not a drill namespace (" + appcontract.NamespacePrefix + "*)"}
	}
	if m.Name == "" {
		return &FieldError{Fault: fault, Field: "meta.name", Reason: "must not be empty"}
	}
	if errs := validation.IsDNS1123Subdomain(m.Name); len(errs) > 0 {
		return &FieldError{Fault: fault, Field: "meta.name", Reason: fmt.Sprintf("%q: %s", m.Name, errs[0])}
	}
	return checkLabels(fault, "meta.labels", m.Labels)
}

// checkTarget validates a pod selection against the drill namespace ns,
// which checkMeta has already accepted. field is "target" or "other".
func checkTarget(fault, field string, t Target, ns string) error {
	if !IsDrillNamespace(t.Namespace) {
		return &NamespaceError{Field: field + ".namespace", Namespace: t.Namespace, Reason: "not a drill namespace (" + appcontract.NamespacePrefix + "*)"}
	}
	if t.Namespace != ns {
		return &NamespaceError{Field: field + ".namespace", Namespace: t.Namespace,
			Reason: fmt.Sprintf("outside drill namespace %q (a drill's faults stay in its namespace)", ns)}
	}
	if len(t.Labels) == 0 {
		return &FieldError{Fault: fault, Field: field + ".labels", Reason: "must not be empty (an empty selector matches every pod in the namespace)"}
	}
	if err := checkLabels(fault, field+".labels", t.Labels); err != nil {
		return err
	}
	return checkMode(fault, field, t.Mode, t.Value)
}

// checkLabels validates label keys and values the way the API server would,
// in key order so that the reported error is deterministic.
func checkLabels(fault, field string, labels map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return &FieldError{Fault: fault, Field: field, Reason: fmt.Sprintf("key %q: %s", k, errs[0])}
		}
		if errs := validation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			return &FieldError{Fault: fault, Field: field, Reason: fmt.Sprintf("value %q of %q: %s", labels[k], k, errs[0])}
		}
	}
	return nil
}

// checkMode validates the selector mode and its value. Chaos Mesh ignores a
// value in one and all mode; it is refused here so that a scenario that
// meant "50 percent" does not silently hit every pod.
func checkMode(fault, field string, mode v1alpha1.SelectorMode, value string) error {
	switch mode {
	case "", v1alpha1.AllMode, v1alpha1.OneMode:
		if value != "" {
			return &FieldError{Fault: fault, Field: field + ".value", Reason: fmt.Sprintf("must be empty with mode %q, got %q", modeOrAll(mode), value)}
		}
	case v1alpha1.FixedMode:
		if n, err := strconv.Atoi(value); err != nil || n < 1 {
			return &FieldError{Fault: fault, Field: field + ".value", Reason: fmt.Sprintf("must be a pod count >= 1 with mode %q, got %q", mode, value)}
		}
	case v1alpha1.FixedPercentMode, v1alpha1.RandomMaxPercentMode:
		if n, err := strconv.Atoi(value); err != nil || n < 1 || n > 100 {
			return &FieldError{Fault: fault, Field: field + ".value", Reason: fmt.Sprintf("must be an integer percentage in 1..100 with mode %q, got %q", mode, value)}
		}
	default:
		return &FieldError{Fault: fault, Field: field + ".mode", Reason: fmt.Sprintf("must be one of one, all, fixed, fixed-percent, random-max-percent, got %q", mode)}
	}
	return nil
}

// checkDuration requires a positive duration for faults that last.
func checkDuration(fault, field string, d time.Duration) error {
	if d <= 0 {
		return &FieldError{Fault: fault, Field: field, Reason: fmt.Sprintf("must be positive, got %s", d)}
	}
	return nil
}

// checkPercent requires a percentage up to 100. Zero is allowed only where
// it is a setting (a correlation) rather than the whole fault: a loss of 0
// percent would be a drill that injects nothing.
func checkPercent(fault, field string, p float64, allowZero bool) error {
	ok := p > 0 && p <= 100
	if allowZero {
		ok = p >= 0 && p <= 100
	}
	if !ok {
		want := "in (0, 100]"
		if allowZero {
			want = "in [0, 100]"
		}
		return &FieldError{Fault: fault, Field: field, Reason: fmt.Sprintf("must be a percentage %s, got %v", want, p)}
	}
	return nil
}

func modeOrAll(mode v1alpha1.SelectorMode) v1alpha1.SelectorMode {
	if mode == "" {
		return v1alpha1.AllMode
	}
	return mode
}

// typeMeta is the TypeMeta of a Chaos Mesh kind, so that the built object
// serializes to a complete manifest.
func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: kind}
}

// objectMeta copies the labels, so that a caller reusing its map cannot
// change an object already built.
func objectMeta(m Meta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: maps.Clone(m.Labels)}
}

// podSelector restricts the selection to exactly the target namespace.
func podSelector(t Target) v1alpha1.PodSelector {
	return v1alpha1.PodSelector{
		Selector: v1alpha1.PodSelectorSpec{GenericSelectorSpec: v1alpha1.GenericSelectorSpec{
			Namespaces:     []string{t.Namespace},
			LabelSelectors: maps.Clone(t.Labels),
		}},
		Mode:  modeOrAll(t.Mode),
		Value: t.Value,
	}
}

// durationUnits are tried largest first by formatDuration.
var durationUnits = []struct {
	name string
	d    time.Duration
}{
	{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
	{"ms", time.Millisecond}, {"us", time.Microsecond}, {"ns", time.Nanosecond},
}

// formatDuration writes d as a whole number of its largest exact unit
// ("90s", "1500ms", "-10m"). time.Duration.String would write "1m30s",
// which Go parses but the NetworkChaos CRD's latency and jitter pattern
// (one number, one unit) rejects.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign, abs := "", uint64(d)
	if d < 0 {
		sign, abs = "-", -abs
	}
	for _, u := range durationUnits {
		if abs%uint64(u.d) == 0 {
			return sign + strconv.FormatUint(abs/uint64(u.d), 10) + u.name
		}
	}
	panic("unreachable: every duration is a whole number of nanoseconds")
}

// formatPercent writes a percentage the way Chaos Mesh's FloatStr fields
// expect it: a plain decimal without exponent ("25", "0.5").
func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}

// chaosDuration is the duration field of a Chaos Mesh spec.
func chaosDuration(d time.Duration) *string {
	s := formatDuration(d)
	return &s
}

// validated runs Chaos Mesh's own webhook validation on a built object, so
// that a builder never returns what the admission webhook would refuse.
func validated[T interface{ Validate() ([]string, error) }](fault string, obj T) (T, error) {
	if _, err := obj.Validate(); err != nil {
		var zero T
		return zero, fmt.Errorf("chaosmesh: %s: refused by Chaos Mesh validation: %w", fault, err)
	}
	return obj, nil
}
