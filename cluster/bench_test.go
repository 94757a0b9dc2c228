package cluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/cluster"
)

// BenchmarkClusterCreateToReady creates a fresh kind cluster through
// firedrill and, side by side in the same run on the same node image, a
// plain `kind create cluster --wait` (the kind CLI built from the module),
// and reports both create→Ready times and their ratio (goal: firedrill
// ≤ 20 s on 2 cores with the offline image).
func BenchmarkClusterCreateToReady(b *testing.B) {
	requireE2E(b)
	ctx := context.Background()
	opts := append(e2eOptions(), cluster.WithName("firedrill-bench"), cluster.WithHostPortOffset(2000), cluster.WithProgress(nil))
	kind := cluster.NewKind(opts...)
	kindCLI := buildKindCLI(b)
	var ours, plain time.Duration
	for b.Loop() {
		if err := kind.Down(ctx); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := kind.Up(ctx); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		b.StopTimer()
		if err := kind.Down(ctx); err != nil {
			b.Fatal(err)
		}
		took, err := plainKindCreate(ctx, b, kindCLI)
		if err != nil {
			b.Fatal(err)
		}
		plain += took
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/n, "s_create_to_ready")
	b.ReportMetric(plain.Seconds()/n, "s_plain_kind_wait")
	b.ReportMetric(ours.Seconds()/plain.Seconds(), "ratio_to_plain_kind")
	fmt.Printf("BENCH create_to_ready=%.1f plain_kind=%.1f ratio=%.2f\n", ours.Seconds()/n, plain.Seconds()/n, ours.Seconds()/plain.Seconds())
}

// buildKindCLI builds the kind command from the module firedrill uses.
func buildKindCLI(b *testing.B) string {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kind").Output()
	if err != nil {
		b.Fatalf("find the kind module: %v", err)
	}
	out := filepath.Join(b.TempDir(), "kind")
	build := exec.Command("go", "build", "-o", out, ".")
	build.Dir = strings.TrimSpace(string(dir))
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if raw, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build the kind CLI: %v\n%s", err, raw)
	}
	return out
}

// plainKindConfig is the least a kind cluster needs on these hosts: the
// offline image's bridge CNI and a kubelet that accepts cgroup v1; no port
// mappings, so it runs beside the drill cluster.
const plainKindConfig = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: KubeletConfiguration
        failCgroupV1: false
`

// plainKindCreate times `kind create cluster --wait` and deletes it.
func plainKindCreate(ctx context.Context, b *testing.B, kindCLI string) (time.Duration, error) {
	cfg := filepath.Join(b.TempDir(), "plain.yaml")
	if err := os.WriteFile(cfg, []byte(plainKindConfig), 0o644); err != nil {
		return 0, err
	}
	image := os.Getenv("FIREDRILL_NODE_IMAGE")
	args := []string{"create", "cluster", "--name", "firedrill-plain", "--config", cfg, "--wait", "5m",
		"--kubeconfig", filepath.Join(b.TempDir(), "kubeconfig")}
	if image != "" {
		args = append(args, "--image", image)
	}
	start := time.Now()
	raw, err := exec.CommandContext(ctx, kindCLI, args...).CombinedOutput()
	took := time.Since(start)
	_ = exec.Command(kindCLI, "delete", "cluster", "--name", "firedrill-plain").Run()
	if err != nil {
		return 0, fmt.Errorf("plain kind create: %v\n%s", err, raw)
	}
	return took, nil
}
