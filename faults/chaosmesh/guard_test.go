package chaosmesh

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
)

// builder is a builder with valid parameters, reduced to the inputs that the
// namespace guard and the selector checks look at.
type builder struct {
	fault string
	build func(Meta, Target) error
}

// builders lists every builder; the partition's other side is a valid target
// in the meta namespace, so that only the inputs under test are wrong.
var builders = []builder{
	{"pod-kill", func(m Meta, t Target) error { _, err := PodKill(m, t); return err }},
	{"pod-failure", func(m Meta, t Target) error { _, err := PodFailure(m, t, time.Minute); return err }},
	{"container-kill", func(m Meta, t Target) error { _, err := ContainerKill(m, t, "app"); return err }},
	{"network-delay", func(m Meta, t Target) error {
		_, err := NetworkDelay(m, t, 100*time.Millisecond, 0, 0, time.Minute)
		return err
	}},
	{"network-loss", func(m Meta, t Target) error { _, err := NetworkLoss(m, t, 50, time.Minute); return err }},
	{"network-partition", func(m Meta, t Target) error {
		other := Target{Namespace: m.Namespace, Labels: map[string]string{"app": "sampleapp", "version": "stable"}}
		_, err := NetworkPartition(m, t, other, v1alpha1.To, time.Minute)
		return err
	}},
	{"network-bandwidth", func(m Meta, t Target) error {
		_, err := NetworkBandwidth(m, t, "1mbps", 20971520, 10000, time.Minute)
		return err
	}},
	{"stress-cpu", func(m Meta, t Target) error { _, err := StressCPU(m, t, 1, 50, time.Minute); return err }},
	{"time-shift", func(m Meta, t Target) error { _, err := TimeShift(m, t, -10*time.Minute, time.Minute); return err }},
}

func TestBuildersAcceptValidInputs(t *testing.T) {
	for _, b := range builders {
		if err := b.build(meta(b.fault), canary()); err != nil {
			t.Errorf("%s: %v", b.fault, err)
		}
	}
}

func TestNamespaceGuard(t *testing.T) {
	cases := []struct {
		name      string
		metaNS    string
		targetNS  string
		wantField string
		wantMsg   string
	}{
		{"kube-system target", drillNS, "kube-system", "target.namespace",
			`chaosmesh: refusing to target namespace "kube-system": not a drill namespace (drill-*)`},
		{"default target", drillNS, "default", "target.namespace",
			`chaosmesh: refusing to target namespace "default": not a drill namespace (drill-*)`},
		{"empty target namespace", drillNS, "", "target.namespace",
			`chaosmesh: refusing to target namespace "": not a drill namespace (drill-*)`},
		{"kube-system chaos object", "kube-system", "kube-system", "meta.namespace",
			`chaosmesh: refusing to create chaos in namespace "kube-system": not a drill namespace (drill-*)`},
		{"default chaos object", "default", drillNS, "meta.namespace",
			`chaosmesh: refusing to create chaos in namespace "default": not a drill namespace (drill-*)`},
		{"empty chaos object namespace", "", drillNS, "meta.namespace",
			`chaosmesh: refusing to create chaos in namespace "": not a drill namespace (drill-*)`},
		{"bare prefix", "drill-", "drill-", "meta.namespace",
			`chaosmesh: refusing to create chaos in namespace "drill-": not a drill namespace (drill-*)`},
		{"prefix without dash", "drilled-app", "drilled-app", "meta.namespace",
			`chaosmesh: refusing to create chaos in namespace "drilled-app": not a drill namespace (drill-*)`},
		{"invalid namespace name", "drill-Canary_1", "drill-Canary_1", "meta.namespace",
			`chaosmesh: refusing to create chaos in namespace "drill-Canary_1": not a drill namespace (drill-*)`},
		{"another drill's namespace", "drill-a-1", "drill-b-2", "target.namespace",
			`chaosmesh: refusing to target namespace "drill-b-2": outside drill namespace "drill-a-1" (a drill's faults stay in its namespace)`},
	}
	for _, b := range builders {
		for _, c := range cases {
			t.Run(b.fault+"/"+c.name, func(t *testing.T) {
				m := meta(b.fault)
				m.Namespace = c.metaNS
				tg := canary()
				tg.Namespace = c.targetNS
				err := b.build(m, tg)
				var nsErr *NamespaceError
				if !errors.As(err, &nsErr) {
					t.Fatalf("got error %v, want a *NamespaceError", err)
				}
				if nsErr.Field != c.wantField {
					t.Errorf("field = %q, want %q", nsErr.Field, c.wantField)
				}
				if err.Error() != c.wantMsg {
					t.Errorf("error = %q\nwant    %q", err, c.wantMsg)
				}
			})
		}
	}
}

func TestNamespaceGuardPartitionOtherSide(t *testing.T) {
	for _, ns := range []string{"kube-system", "default", "drill-other-9"} {
		other := Target{Namespace: ns, Labels: map[string]string{"app": "sampleapp", "version": "stable"}}
		_, err := NetworkPartition(meta("p"), canary(), other, v1alpha1.Both, time.Minute)
		var nsErr *NamespaceError
		if !errors.As(err, &nsErr) || nsErr.Field != "other.namespace" {
			t.Errorf("other side in %q: got %v, want a *NamespaceError on other.namespace", ns, err)
		}
	}
}

// TestEmptyLabelsRefused guards against the Chaos Mesh default that an empty
// selector matches every pod in the namespace, stable included.
func TestEmptyLabelsRefused(t *testing.T) {
	for _, b := range builders {
		for name, labels := range map[string]map[string]string{"nil": nil, "empty": {}} {
			t.Run(b.fault+"/"+name, func(t *testing.T) {
				tg := canary()
				tg.Labels = labels
				assertFieldError(t, b.build(meta(b.fault), tg), b.fault, "target.labels")
			})
		}
	}
	_, err := NetworkPartition(meta("p"), canary(), Target{Namespace: drillNS}, v1alpha1.Both, time.Minute)
	assertFieldError(t, err, "network-partition", "other.labels")
}

func TestIsDrillNamespace(t *testing.T) {
	for ns, want := range map[string]bool{
		"drill-canary-bad-7f3a":            true,
		"drill-x":                          true,
		"drill-":                           false,
		"drill":                            false,
		"kube-system":                      false,
		"default":                          false,
		"my-drill-1":                       false,
		"drill-UPPER":                      false,
		"drill-" + strings.Repeat("a", 58): false,
	} {
		if got := IsDrillNamespace(ns); got != want {
			t.Errorf("IsDrillNamespace(%q) = %v, want %v", ns, got, want)
		}
	}
}

// TestBuiltObjectsDoNotAliasInputs checks that the caller's label maps are
// copied, so reusing a map for the next fault cannot retarget this one.
func TestBuiltObjectsDoNotAliasInputs(t *testing.T) {
	m, tg := meta("pod-kill"), canary()
	obj, err := PodKill(m, tg)
	if err != nil {
		t.Fatal(err)
	}
	m.Labels["firedrill.dev/drill-id"] = "changed"
	tg.Labels["version"] = "stable"
	if got := obj.Labels["firedrill.dev/drill-id"]; got != "7f3a" {
		t.Errorf("object label changed with the caller's map: %q", got)
	}
	if got := obj.Spec.Selector.LabelSelectors["version"]; got != "canary" {
		t.Errorf("selector changed with the caller's map: track=%q", got)
	}
}

// assertFieldError checks that err is a one-line *FieldError of fault on field.
func assertFieldError(t *testing.T, err error, fault, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v, want a *FieldError on %s", err, field)
	}
	if fe.Fault != fault || fe.Field != field {
		t.Errorf("got %s/%s, want %s/%s (error %q)", fe.Fault, fe.Field, fault, field, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "chaosmesh: "+fault+": "+field+": ") || strings.Contains(msg, "\n") {
		t.Errorf("error %q is not one line naming %s and %s", msg, fault, field)
	}
}
