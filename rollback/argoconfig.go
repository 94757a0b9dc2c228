package rollback

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// Config is a machinery's own configuration, as a team keeps it in a file:
// for argo-rollouts, its AnalysisTemplates and its Rollout strategy. Name
// is what errors call it (a file name).
type Config struct {
	Name string
	Data []byte
}

// argoGroupVersion is the API of every Argo Rollouts object.
const argoGroupVersion = "argoproj.io/v1alpha1"

// argoProviders are the metric providers of Argo Rollouts v1.10; a metric
// names exactly one.
var argoProviders = []string{"prometheus", "kayenta", "web", "datadog", "wavefront", "newRelic", "job",
	"cloudWatch", "graphite", "influxdb", "skywalking", "plugin"}

// Args firedrill passes to every AnalysisTemplate the Rollout runs; a
// template uses the ones it declares (spec.args) and Argo ignores the rest.
const (
	ArgNamespace     = "namespace"
	ArgCanaryVersion = "canary-version"
	ArgStableVersion = "stable-version"
	ArgPrometheus    = "prometheus"
	ArgCanaryURL     = "canary-url"
)

// defaultAnalysis is the analysis of a drill that brings none: the canary
// version's error ratio from Prometheus, in the background from the first
// step.
//
//go:embed argo-default.yaml
var defaultAnalysis []byte

// DefaultArgoConfig is the configuration a drill without its own uses.
var DefaultArgoConfig = Config{Name: "argo-default.yaml", Data: defaultAnalysis}

// argoConfig is a checked configuration: the templates, and the canary
// strategy (spec.strategy.canary of a Rollout document), either the file's
// or the default.
type argoConfig struct {
	name      string
	templates []*unstructured.Unstructured
	canary    map[string]any
}

// parseArgoConfig decodes and checks a configuration without a cluster, so
// a broken file is refused before anything is created. Every error is one
// line naming the file, the object and the field.
func parseArgoConfig(c Config) (argoConfig, error) {
	if len(c.Data) == 0 {
		c = DefaultArgoConfig
	}
	out := argoConfig{name: c.Name}
	docs, err := kube.Documents(c.Data)
	if err != nil {
		return out, fmt.Errorf("%s: %w", c.Name, err)
	}
	for i, doc := range docs {
		if err := out.add(i+1, doc); err != nil {
			return out, fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	if len(out.templates) == 0 {
		return out, fmt.Errorf("%s: no AnalysisTemplate: a canary without analysis is never checked", c.Name)
	}
	if out.canary == nil {
		out.canary = defaultCanary(out.templateNames())
	}
	if err := out.checkReferences(); err != nil {
		return out, fmt.Errorf("%s: %w", c.Name, err)
	}
	return out, nil
}

func (c *argoConfig) add(n int, doc *unstructured.Unstructured) error {
	if doc.GetAPIVersion() != argoGroupVersion {
		return fmt.Errorf("document %d (%s %s): apiVersion %q, want %s", n, doc.GetKind(), doc.GetName(), doc.GetAPIVersion(), argoGroupVersion)
	}
	switch doc.GetKind() {
	case "AnalysisTemplate":
		if err := checkTemplate(doc); err != nil {
			return fmt.Errorf("AnalysisTemplate %s: %w", doc.GetName(), err)
		}
		c.templates = append(c.templates, doc)
	case "Rollout":
		if c.canary != nil {
			return fmt.Errorf("document %d: a second Rollout: the drill runs one", n)
		}
		canary, found, err := unstructured.NestedMap(doc.Object, "spec", "strategy", "canary")
		if err != nil || !found {
			return fmt.Errorf("rollout %s: spec.strategy.canary is missing: firedrill drills the canary strategy", doc.GetName())
		}
		for _, set := range []string{"canaryService", "stableService"} {
			if _, ok := canary[set]; ok {
				return fmt.Errorf("rollout %s: spec.strategy.canary.%s is set by firedrill; leave it out", doc.GetName(), set)
			}
		}
		c.canary = canary
	default:
		return fmt.Errorf("document %d: kind %q: want AnalysisTemplate or Rollout", n, doc.GetKind())
	}
	return nil
}

// checkTemplate refuses a template without a name or metrics, and a metric
// without exactly one known provider.
func checkTemplate(t *unstructured.Unstructured) error {
	if t.GetName() == "" {
		return fmt.Errorf("metadata.name is empty")
	}
	metrics, _, err := unstructured.NestedSlice(t.Object, "spec", "metrics")
	if err != nil || len(metrics) == 0 {
		return fmt.Errorf("spec.metrics is empty")
	}
	for i, m := range metrics {
		metric, _ := m.(map[string]any)
		provider, _ := metric["provider"].(map[string]any)
		field := fmt.Sprintf("spec.metrics[%d].provider", i)
		switch {
		case metric["name"] == nil || metric["name"] == "":
			return fmt.Errorf("spec.metrics[%d].name is empty", i)
		case len(provider) != 1:
			return fmt.Errorf("%s names %d providers (%s), want exactly one of %s", field, len(provider),
				strings.Join(slices.Sorted(maps.Keys(provider)), ", "), strings.Join(argoProviders, ", "))
		}
		for name := range provider {
			if !slices.Contains(argoProviders, name) {
				return fmt.Errorf("%s: unknown provider %q, want one of %s", field, name, strings.Join(argoProviders, ", "))
			}
		}
	}
	return nil
}

func (c argoConfig) templateNames() []string {
	var names []string
	for _, t := range c.templates {
		names = append(names, t.GetName())
	}
	return names
}

// checkReferences refuses a strategy that runs a template the file does not
// define.
func (c argoConfig) checkReferences() error {
	for _, ref := range c.references() {
		if !slices.Contains(c.templateNames(), ref) {
			return fmt.Errorf("the Rollout strategy runs AnalysisTemplate %q, which the file does not define (it defines %s)",
				ref, strings.Join(c.templateNames(), ", "))
		}
	}
	return nil
}

// references lists the templates the strategy runs: background analysis
// and analysis steps.
func (c argoConfig) references() []string {
	var refs []string
	add := func(analysis any) {
		a, _ := analysis.(map[string]any)
		list, _ := a["templates"].([]any)
		for _, t := range list {
			if m, ok := t.(map[string]any); ok {
				name, _ := m["templateName"].(string)
				refs = append(refs, name)
			}
		}
	}
	add(c.canary["analysis"])
	steps, _ := c.canary["steps"].([]any)
	for _, s := range steps {
		if m, ok := s.(map[string]any); ok {
			add(m["analysis"])
		}
	}
	return refs
}

// defaultCanary is the strategy of a file with templates only: the
// default file's steps, with every template of the file running in the
// background from the first step.
func defaultCanary(templates []string) map[string]any {
	def, err := parseArgoConfig(DefaultArgoConfig)
	if err != nil {
		panic("rollback: " + err.Error())
	}
	var refs []any
	for _, t := range templates {
		refs = append(refs, map[string]any{"templateName": t})
	}
	canary := def.canary
	canary["analysis"] = map[string]any{"templates": refs}
	return canary
}
