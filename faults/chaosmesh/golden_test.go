package chaosmesh

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/go-logr/logr"
	"github.com/santhosh-tekuri/jsonschema/v6"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"
)

// update rewrites testdata/golden instead of comparing against it, so that an
// intended change to a builder is one `go test ./faults/chaosmesh -update`
// away and shows up as a reviewable diff.
var update = flag.Bool("update", false, "rewrite testdata/golden files instead of comparing against them")

// TestMain silences the api package's webhook logger, which ValidateCreate
// writes to and which otherwise complains that no logger was set.
func TestMain(m *testing.M) {
	logf.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

const drillNS = "drill-canary-bad-7f3a"

func meta(name string) Meta {
	return Meta{Name: name, Namespace: drillNS, Labels: map[string]string{"firedrill.dev/drill-id": "7f3a"}}
}

func canary() Target {
	return Target{Namespace: drillNS, Labels: map[string]string{"app": "sampleapp", "version": "canary"}}
}

func stable() Target {
	return Target{Namespace: drillNS, Labels: map[string]string{"app": "sampleapp", "version": "stable"}}
}

// builtCase is one builder call with valid inputs; its object is the golden
// file testdata/golden/<name>.yaml.
type builtCase struct {
	name  string
	build func() (v1alpha1.WebhookObject, error)
}

// builtCases covers every builder and action once.
var builtCases = []builtCase{
	{"podchaos-pod-kill", func() (v1alpha1.WebhookObject, error) {
		return PodKill(meta("pod-kill"), canary())
	}},
	{"podchaos-pod-failure", func() (v1alpha1.WebhookObject, error) {
		return PodFailure(meta("pod-failure"), canary(), 2*time.Minute)
	}},
	{"podchaos-container-kill", func() (v1alpha1.WebhookObject, error) {
		return ContainerKill(meta("container-kill"), canary(), "app")
	}},
	{"networkchaos-delay", func() (v1alpha1.WebhookObject, error) {
		return NetworkDelay(meta("network-delay"), canary(), 200*time.Millisecond, 50*time.Millisecond, 25, 90*time.Second)
	}},
	{"networkchaos-loss", func() (v1alpha1.WebhookObject, error) {
		return NetworkLoss(meta("network-loss"), canary(), 30, 2*time.Minute)
	}},
	{"networkchaos-partition", func() (v1alpha1.WebhookObject, error) {
		return NetworkPartition(meta("network-partition"), stable(), canary(), v1alpha1.Both, 2*time.Minute)
	}},
	{"networkchaos-bandwidth", func() (v1alpha1.WebhookObject, error) {
		return NetworkBandwidth(meta("network-bandwidth"), canary(), "1mbps", 20971520, 10000, 2*time.Minute)
	}},
	{"stresschaos-cpu", func() (v1alpha1.WebhookObject, error) {
		t := canary()
		t.Mode, t.Value = v1alpha1.FixedMode, "1"
		return StressCPU(meta("stress-cpu"), t, 2, 80, 2*time.Minute)
	}},
	{"timechaos-time-offset", func() (v1alpha1.WebhookObject, error) {
		return TimeShift(meta("time-shift"), canary(), -10*time.Minute, 2*time.Minute)
	}},
}

func TestGolden(t *testing.T) {
	for _, c := range builtCases {
		t.Run(c.name, func(t *testing.T) {
			obj, err := c.build()
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			got, err := yaml.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", c.name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden: %v (run go test ./faults/chaosmesh -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden file (run go test ./faults/chaosmesh -update and review the diff)\ngot:\n%s", path, got)
			}
		})
	}
}

// TestBuiltObjectsPassChaosMeshWebhook runs what Chaos Mesh's admission
// webhook runs on create: defaulting must change nothing (the stored object is
// the one built) and validation must accept the result.
func TestBuiltObjectsPassChaosMeshWebhook(t *testing.T) {
	for _, c := range builtCases {
		t.Run(c.name, func(t *testing.T) {
			obj, err := c.build()
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			defaulted := obj.DeepCopyObject().(v1alpha1.WebhookObject)
			if err := defaulted.Default(t.Context(), defaulted); err != nil {
				t.Fatalf("Default: %v", err)
			}
			before, after := mustYAML(t, obj), mustYAML(t, defaulted)
			if !bytes.Equal(before, after) {
				t.Errorf("Chaos Mesh defaulting changed the object\nbuilt:\n%s\ndefaulted:\n%s", before, after)
			}
			if warnings, err := defaulted.ValidateCreate(t.Context(), defaulted); err != nil || len(warnings) > 0 {
				t.Errorf("ValidateCreate: warnings %q, error %v", warnings, err)
			}
		})
	}
}

// TestBuiltObjectsMatchCRDSchema checks built objects against the CRDs that
// the installed controller registers, refusing unknown fields because the API
// server would silently prune them.
func TestBuiltObjectsMatchCRDSchema(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{}
	for _, c := range builtCases {
		t.Run(c.name, func(t *testing.T) {
			obj, err := c.build()
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			kind := obj.GetObjectKind().GroupVersionKind().Kind
			sch, ok := schemas[kind]
			if !ok {
				sch = compileCRDSchema(t, kind)
				schemas[kind] = sch
			}
			// The status subresource makes the API server drop status on
			// create, so only what a create stores is checked.
			inst := instance(t, obj)
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s does not match the %s CRD schema: %v", c.name, kind, err)
			}
		})
	}
}

// compileCRDSchema compiles the v1alpha1 openAPIV3Schema of a kind from
// testdata/crd, closed against unknown fields.
func compileCRDSchema(t *testing.T, kind string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "crd", "chaos-mesh.org_"+strings.ToLower(kind)+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("parse %s CRD: %v", kind, err)
	}
	var schema map[string]any
	for _, v := range crd.Spec.Versions {
		if v.Name == v1alpha1.SchemeGroupVersion.Version {
			schema = v.Schema.OpenAPIV3Schema
		}
	}
	if schema == nil {
		t.Fatalf("%s CRD has no %s schema", kind, v1alpha1.SchemeGroupVersion.Version)
	}
	closeSchema(schema)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(kind+".json", schema); err != nil {
		t.Fatalf("add %s schema: %v", kind, err)
	}
	sch, err := c.Compile(kind + ".json")
	if err != nil {
		t.Fatalf("compile %s schema: %v", kind, err)
	}
	return sch
}

// closeSchema forbids properties a structural schema does not list, which is
// what pruning would remove, except where the schema preserves unknown fields.
func closeSchema(s map[string]any) {
	if props, ok := s["properties"].(map[string]any); ok {
		if _, set := s["additionalProperties"]; !set && s["x-kubernetes-preserve-unknown-fields"] != true {
			s["additionalProperties"] = false
		}
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				closeSchema(m)
			}
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if m, ok := s[key].(map[string]any); ok {
			closeSchema(m)
		}
	}
}

func mustYAML(t *testing.T, obj any) []byte {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
