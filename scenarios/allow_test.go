package scenarios_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/firedrill-dev/firedrill/cluster"
)

// TestE2EUnlistedContextRefused runs this suite against a second, real
// context to the drill cluster, one that is not allowlisted: the suite must
// refuse it in one line naming it, and nothing may be written.
func TestE2EUnlistedContextRefused(t *testing.T) {
	if os.Getenv("FIREDRILL_E2E") != "1" {
		t.Skip("set FIREDRILL_E2E=1 (make drills) to run against the drill cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const name = "staging-not-listed"
	kubeconfig := secondContext(t, name)
	c, err := cluster.Existing(ctx, kubeconfig, name)
	if err != nil {
		t.Fatalf("the second context must be real: %v", err)
	}
	before := namespaceNames(ctx, t, c)
	runID := "refused-" + time.Now().Format("150405")
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestScenarios$",
		"-firedrill.context="+name, "-firedrill.kubeconfig="+kubeconfig, "-firedrill.url=http://127.0.0.1:9/",
		"-firedrill.run-id="+runID, "-firedrill.run-dir="+t.TempDir())
	cmd.Env = append(os.Environ(), cluster.AllowEnv+"=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite ran against %s:\n%s", name, out)
	}
	want := `context "` + name + `" is not allowed`
	if !strings.Contains(string(out), want) {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
	t.Logf("refused: %s", lineWith(string(out), want))
	if after := namespaceNames(ctx, t, c); !slices.Equal(before, after) {
		t.Errorf("namespaces changed: before %v, after %v", before, after)
	}
	list, err := c.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "firedrill.dev/run=" + runID})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("namespaces of the refused run: %v, %v", list, err)
	}
}

// secondContext writes a kubeconfig whose only context, name, reaches the
// drill cluster with firedrill's own credentials.
func secondContext(t *testing.T, name string) string {
	t.Helper()
	own := filepath.Join(cluster.CacheDir(), "kubeconfig", cluster.DefaultName)
	cfg, err := clientcmd.LoadFromFile(own)
	if err != nil {
		t.Fatalf("the drill cluster's kubeconfig: %v", err)
	}
	kc, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		t.Fatalf("%s has no current context", own)
	}
	cfg.Contexts = map[string]*clientcmdapi.Context{name: kc}
	cfg.CurrentContext = name
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func namespaceNames(ctx context.Context, t *testing.T, c *cluster.Cluster) []string {
	t.Helper()
	list, err := c.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ns := range list.Items {
		if ns.DeletionTimestamp == nil {
			names = append(names, ns.Name)
		}
	}
	slices.Sort(names)
	return names
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
