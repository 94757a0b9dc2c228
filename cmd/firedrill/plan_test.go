package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/cluster"
)

func TestPlanWithoutCluster(t *testing.T) {
	out, err := dispatchOut(t, "plan", "--label-filter", "machinery:argo-rollouts")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"drill argo-bad-version\n", "namespace  drill-argo-bad-version-<id>",
		"objects    ConfigMap app-config, Service app (a free published NodePort, the user path), Service app-canary, Service app-stable, AnalysisTemplate error-ratio (from argo-default.yaml), Rollout app (4 × v1, canary v2)",
		"fault      network-partition on app=app,version=v2, 19s after the canary starts",
		"budget     MTTR 45s", "nothing was written to any cluster",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "drill canary-bad-version") {
		t.Error("the label filter let a canary-hook drill through")
	}
	if _, err := dispatchOut(t, "plan", "--focus", "no-such-drill"); err == nil || !strings.Contains(err.Error(), "no scenario matches") {
		t.Errorf("an empty selection: err = %v", err)
	}
}

// apiServer answers the reads a plan makes and records every request.
type apiServer struct {
	mu      sync.Mutex
	methods []string
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.methods = append(a.methods, r.Method+" "+r.URL.Path)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/version":
		fmt.Fprint(w, `{"gitVersion":"v1.37.2"}`)
	case "/api/v1/namespaces":
		fmt.Fprint(w, `{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[]}`)
	default:
		http.NotFound(w, r)
	}
}

// The plan reads the cluster through a client that refuses writes: the
// server sees only GETs, and a write through that client never leaves.
func TestPlanAgainstClusterOnlyReads(t *testing.T) {
	api := &apiServer{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: %q}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: staging, context: {cluster: c, user: u}}]\ncurrent-context: staging\n", srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := dispatchOut(t, "plan", "--focus", "canary-partition-chaosmesh|canary-network-partition$", "--context", "staging", "--kubeconfig", kubeconfig)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	for _, want := range []string{"checking faults against context staging", "this cluster can run it: no: Chaos Mesh is not installed: this cluster has no chaos-mesh.org/v1alpha1 API", "this cluster can run it: no: the native partition needs to run commands on the nodes"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	c, err := cluster.Existing(context.Background(), kubeconfig, "staging")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := c.ReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ro.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only client: refusing POST") {
		t.Errorf("a write through the read-only client: err = %v", err)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	for _, m := range api.methods {
		if !strings.HasPrefix(m, "GET ") {
			t.Errorf("the API server saw %s", m)
		}
	}
	if len(api.methods) == 0 {
		t.Error("the plan never read the cluster")
	}
}
