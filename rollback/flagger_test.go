package rollback

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/firedrill-dev/firedrill/internal/flaggerhook"
)

func TestCheckFlagger(t *testing.T) {
	controller := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "flagger", Namespace: "team-flagger"}, Status: appsv1.DeploymentStatus{AvailableReplicas: 1}}
	testControllerCheck(t, CheckFlagger, "canaries.flagger.app", controller, "flagger: the Canary CRD (canaries.flagger.app) is not installed")
}

// The install applies the module's CRDs first, its namespaced objects in
// flagger-system, and the Deployment built here last, on the kubernetes
// provider with HTTP probes.
func TestFlaggerInstallObjects(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "kustomize", "base", "flagger")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"crd.yaml":     "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: canaries.flagger.app\n",
		"account.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: flagger\n  namespace: elsewhere\n",
		"rbac.yaml":    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: flagger\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(base, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	crds, rest, err := FlaggerInstall{ModuleDir: dir, Image: "firedrill/flagger:test"}.objects()
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 1 || crds[0].GetName() != "canaries.flagger.app" {
		t.Fatalf("crds = %v, want the Canary CRD", crds)
	}
	var kinds []string
	for _, o := range rest {
		kinds = append(kinds, o.GetKind()+"/"+o.GetNamespace())
	}
	if want := []string{"Namespace/", "ServiceAccount/flagger-system", "ClusterRole/", "Deployment/flagger-system"}; !slices.Equal(kinds, want) {
		t.Fatalf("objects = %v, want %v", kinds, want)
	}
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(rest[3].Object, &dep); err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != "firedrill/flagger:test" || !slices.Contains(c.Args, "-mesh-provider=kubernetes") || c.ReadinessProbe.HTTPGet == nil {
		t.Errorf("container %s %v: want the image, the kubernetes provider and an HTTP probe", c.Image, c.Args)
	}
	if _, _, err := (FlaggerInstall{ModuleDir: t.TempDir()}).objects(); err == nil || !strings.Contains(err.Error(), "crd.yaml") {
		t.Errorf("missing manifests: err = %v, want one naming crd.yaml", err)
	}
}

// The Canary wires the gate to the canary Service and posts events to the
// receiver; the record's marks come from Flagger's own event times.
func TestFlaggerCanaryAndRecord(t *testing.T) {
	f := &flagger{base: newBase(Flagger, Env{Namespace: "drill-x", ProgressDeadline: 15 * time.Second}), hookURL: "http://10.0.0.9"}
	obj := f.canaryObject(Version{Name: "v1", Replicas: 3}, "http://10.0.0.7/")
	hooks, _, _ := unstructured.NestedSlice(obj.Object, "spec", "analysis", "webhooks")
	gate, events := hooks[0].(map[string]any), hooks[1].(map[string]any)
	meta := gate["metadata"].(map[string]any)
	if gate["type"] != "rollout" || gate["url"] != "http://10.0.0.9"+flaggerhook.PathGate || meta[flaggerhook.MetaURL] != "http://10.0.0.7/" || meta[flaggerhook.MetaRequests] != "20" {
		t.Errorf("gate webhook %v: want a rollout gate on the canary URL", gate)
	}
	if events["type"] != "event" || events["url"] != "http://10.0.0.9"+flaggerhook.PathEvent {
		t.Errorf("event webhook %v", events)
	}
	if p, _, _ := unstructured.NestedString(obj.Object, "spec", "provider"); p != "kubernetes" {
		t.Errorf("provider %q, want kubernetes", p)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	rec := hookRecord{
		Checks: []flaggerhook.Check{{Passed: true, End: t0}, {Passed: false, End: t0.Add(10 * time.Second), Detail: "canary error ratio 1.00"}},
		Events: []flaggerhook.Event{{Message: "Halt app.drill-x advancement", At: t0.Add(10 * time.Second)}, {Message: "Rolling back app.drill-x failed checks threshold reached 2", At: t0.Add(20 * time.Second)}},
	}
	if c, ok := rec.firstFailed(); !ok || !c.End.Equal(t0.Add(10*time.Second)) {
		t.Errorf("firstFailed = %v, %t; want the second check", c, ok)
	}
	seen := t0.Add(time.Minute)
	if got := rec.eventAt("Rolling back", seen); !got.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("eventAt = %s, want Flagger's time", got)
	}
	if got := rec.eventAt("Promotion completed", seen); !got.Equal(seen) {
		t.Errorf("eventAt without the event = %s, want the watch's %s", got, seen)
	}
}
