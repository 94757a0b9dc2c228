package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/cluster"
)

// BenchmarkClusterCreateToReady creates a fresh kind cluster and reports the
// seconds from create to every node and kube-system pod Ready (goal: ≤ 20s
// on 2 cores with the offline image), then deletes it.
func BenchmarkClusterCreateToReady(b *testing.B) {
	requireE2E(b)
	ctx := context.Background()
	opts := append(e2eOptions(), cluster.WithName("firedrill-bench"), cluster.WithHostPortOffset(2000), cluster.WithProgress(nil))
	kind := cluster.NewKind(opts...)
	var total time.Duration
	for b.Loop() {
		if err := kind.Down(ctx); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := kind.Up(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		if err := kind.Down(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s_create_to_ready")
}
