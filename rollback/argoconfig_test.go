package rollback

import (
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseArgoConfigDefault(t *testing.T) {
	cfg, err := parseArgoConfig(Config{})
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	if got := cfg.templateNames(); len(got) != 1 || got[0] != "error-ratio" {
		t.Errorf("templates = %v, want [error-ratio]", got)
	}
	if refs := cfg.references(); len(refs) != 1 || refs[0] != "error-ratio" {
		t.Errorf("references = %v, want the background analysis [error-ratio]", refs)
	}
}

func TestParseArgoConfigTemplatesOnlyTakeDefaultSteps(t *testing.T) {
	tmpl := strings.Replace(strings.Split(string(defaultAnalysis), "---")[0], "name: error-ratio", "name: mine", 1)
	cfg, err := parseArgoConfig(Config{Name: "mine.yaml", Data: []byte(tmpl)})
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := cfg.canary["steps"].([]any)
	if len(steps) != 4 {
		t.Errorf("steps = %v, want the default file's four", steps)
	}
	if refs := cfg.references(); len(refs) != 1 || refs[0] != "mine" {
		t.Errorf("references = %v, want [mine]", refs)
	}
}

func TestParseArgoConfigRefuses(t *testing.T) {
	tmpl := strings.Split(string(defaultAnalysis), "---")[0]
	for _, tt := range []struct {
		name, data, want string
	}{
		{"no template", "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec: {strategy: {canary: {}}}\n", "no AnalysisTemplate"},
		{"unknown provider", strings.Replace(tmpl, "prometheus:\n        address", "promethues:\n        address", 1), `spec.metrics[0].provider: unknown provider "promethues"`},
		{"two providers", strings.Replace(tmpl, "      prometheus:\n", "      web: {url: x}\n      prometheus:\n", 1), "names 2 providers (prometheus, web)"},
		{"other kind", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", `apiVersion "v1", want argoproj.io/v1alpha1`},
		{"wrong kind", "apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nmetadata: {name: x}\n", `kind "Experiment": want AnalysisTemplate or Rollout`},
		{"missing reference", tmpl + "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: app}\nspec: {strategy: {canary: {analysis: {templates: [{templateName: nope}]}}}}\n", `runs AnalysisTemplate "nope", which the file does not define`},
		{"services set", tmpl + "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: app}\nspec: {strategy: {canary: {canaryService: x}}}\n", "canaryService is set by firedrill"},
		{"not yaml", "{{{", "f.yaml: document 1:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseArgoConfig(Config{Name: "f.yaml", Data: []byte(tt.data)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// The scenarios' broken files fail here or at the cluster; the ones that
// can be refused without a cluster are.
func TestBrokenFilesRefusedLocally(t *testing.T) {
	data, err := os.ReadFile("../scenarios/testdata/unknown-provider.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseArgoConfig(Config{Name: "unknown-provider.yaml", Data: data}); err == nil {
		t.Fatal("unknown provider accepted")
	}
}

func TestFillArgs(t *testing.T) {
	got := fill(`up{ns="{{args.namespace}}",v="{{ args.canary-version }}",x="{{args.other}}"}`, map[string]string{"namespace": "drill-a", "canary-version": "v2"})
	want := `up{ns="drill-a",v="v2",x="{{args.other}}"}`
	if got != want {
		t.Errorf("fill = %s, want %s", got, want)
	}
}

func TestAddArgsKeepsTheFilesOwn(t *testing.T) {
	a := &argoRollouts{base: newBase(ArgoRollouts, Env{Namespace: "drill-x", Prometheus: DefaultPrometheus}), canary: Version{Name: "v2"}, stable: Version{Name: "v1"}}
	canary := map[string]any{"analysis": map[string]any{"args": []any{map[string]any{"name": ArgNamespace, "value": "mine"}}}}
	a.addArgs(canary)
	args := canary["analysis"].(map[string]any)["args"].([]any)
	values := map[string]any{}
	for _, arg := range args {
		m := arg.(map[string]any)
		values[m["name"].(string)] = m["value"]
	}
	if values[ArgNamespace] != "mine" || values[ArgCanaryVersion] != "v2" || values[ArgPrometheus] != DefaultPrometheus.URL() {
		t.Errorf("args = %v", values)
	}
}

func TestDecisiveMeasurement(t *testing.T) {
	run := func(name string, measurements ...any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"name": name},
			"status":   map[string]any{"metricResults": []any{map[string]any{"name": "m", "measurements": measurements}}},
		}}
	}
	ms := func(phase, started string) any {
		return map[string]any{"phase": phase, "startedAt": "2026-12-01T10:00:" + started + "Z"}
	}
	for _, tt := range []struct {
		name      string
		runs      []*unstructured.Unstructured
		want      string // startedAt seconds of the decisive measurement, "" for none
		wantPhase string
	}{
		{"a start-up error, then failures", []*unstructured.Unstructured{run("a", ms("Error", "01"), ms("Failed", "05"), ms("Failed", "07"))}, "05", measurementFailed},
		{"errors after a success", []*unstructured.Unstructured{run("a", ms("Error", "01"), ms("Successful", "03"), ms("Error", "05"), ms("Error", "15"))}, "05", measurementError},
		{"the earliest failure of two runs", []*unstructured.Unstructured{run("a", ms("Failed", "09")), run("b", ms("Failed", "04"))}, "04", measurementFailed},
		{"a recovered error", []*unstructured.Unstructured{run("a", ms("Error", "01"), ms("Successful", "03"))}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := decisive(tt.runs)
			if tt.want == "" {
				if ok {
					t.Fatalf("decisive = %+v, want none", b)
				}
				return
			}
			if !ok || b.StartedAt != "2026-12-01T10:00:"+tt.want+"Z" || b.Phase != tt.wantPhase {
				t.Errorf("decisive = %+v, want the %s started at :%s", b, tt.wantPhase, tt.want)
			}
		})
	}
}

// FuzzParseArgoConfig feeds any bytes to the reader of a team's analysis
// file: it must refuse or accept, never panic, and an accepted file must
// name its templates and a canary strategy.
func FuzzParseArgoConfig(f *testing.F) {
	f.Add(defaultAnalysis)
	for _, name := range []string{"unknown-provider", "bad-query", "wrong-field"} {
		if data, err := os.ReadFile("../scenarios/testdata/" + name + ".yaml"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: x}\nspec: {metrics: [null]}\n"))
	f.Add([]byte("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec: {strategy: {canary: {steps: [7], analysis: 3}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseArgoConfig(Config{Name: "f.yaml", Data: data})
		if err != nil {
			return
		}
		if len(cfg.templates) == 0 || cfg.canary == nil {
			t.Fatalf("accepted a file without templates or strategy: %+v", cfg)
		}
		_ = cfg.references()
	})
}
