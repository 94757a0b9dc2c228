package drills_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// BenchmarkDrillToVerdict runs canary-bad-version on the reused drill
// cluster and reports the seconds to the first verdict, and the harness
// overhead: the time beyond the drill's intrinsic waits (steady window,
// canary start to restored, stability window).
func BenchmarkDrillToVerdict(b *testing.B) {
	if os.Getenv("FIREDRILL_E2E") != "1" || os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE") == "" {
		b.Skip("needs a cluster: run through `make bench`")
	}
	ctx := context.Background()
	c, opts := benchCluster(b, ctx)
	var total, overhead time.Duration
	for b.Loop() {
		start := time.Now()
		d, err := drills.New(ctx, c, scenarios.CanaryBadVersion, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := runDrill(ctx, d); err != nil {
			_ = d.Cleanup(ctx)
			b.Fatal(err)
		}
		took := time.Since(start)
		total += took
		overhead += took - intrinsic(d)
		if err := d.Cleanup(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s_to_verdict")
	b.ReportMetric(overhead.Seconds()/float64(b.N), "s_harness_overhead")
	fmt.Printf("BENCH drill_to_verdict=%.1f harness_overhead=%.1f\n", total.Seconds()/float64(b.N), overhead.Seconds()/float64(b.N))
}

func benchCluster(b *testing.B, ctx context.Context) (*cluster.Cluster, drills.Options) {
	kind := cluster.NewKind(cluster.WithProgress(nil),
		cluster.WithAirgap(os.Getenv("FIREDRILL_AIRGAP") == "1"), cluster.WithNodeImage(os.Getenv("FIREDRILL_NODE_IMAGE")))
	c, err := kind.Up(ctx)
	if err != nil {
		b.Fatal(err)
	}
	image := os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE")
	if err := kind.LoadImages(ctx, image); err != nil {
		b.Fatal(err)
	}
	config, err := cluster.FindConfig(".")
	if err != nil {
		b.Fatal(err)
	}
	ports, err := cluster.HostPorts(config, 0)
	if err != nil {
		b.Fatal(err)
	}
	port, err := drills.FreeNodePort(ctx, c.Client, []int32{30080, 30081, 30082, 30083})
	if err != nil {
		b.Fatal(err)
	}
	return c, drills.Options{Image: image, NodePort: port, URL: fmt.Sprintf("http://127.0.0.1:%d/", ports[port]),
		RunID: "bench", RunDir: b.TempDir()}
}

func runDrill(ctx context.Context, d *drills.Drill) error {
	for _, step := range []func(context.Context) error{
		d.CreateNamespace, d.DeployStable, d.StartObserver, d.AwaitSteadyState,
		d.StartCanary, d.ConfirmOnset, d.AwaitRollback, d.ConfirmRestored,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	_, err := d.WriteReport(ctx, "")
	return err
}

// intrinsic is the part of a drill that is waiting by design: the steady
// window, canary start to restored, the stability window, and the request
// timeout that restored waits for so that in-flight requests are judged.
func intrinsic(d *drills.Drill) time.Duration {
	r := d.Report("")
	var canary, restored time.Time
	for _, e := range r.Timeline {
		switch e.Name {
		case drills.EventCanaryStarted:
			canary = e.At
		case drills.EventRestored:
			restored = e.At
		}
	}
	return drills.DefaultTimeouts().SteadyWindow + restored.Sub(canary) + d.Scenario.SLO.Stability + drills.DefaultObserverTimeout
}

// BenchmarkCalibration runs the calibration drill on the reused drill
// cluster at 20, 50 and 100 Hz and prints each calibration table: every
// injected outage against the estimator's measurement and stated bound.
func BenchmarkCalibration(b *testing.B) {
	if os.Getenv("FIREDRILL_E2E") != "1" || os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE") == "" {
		b.Skip("needs a cluster: run through `make bench`")
	}
	ctx := context.Background()
	c, opts := benchCluster(b, ctx)
	for b.Loop() {
		for _, hz := range []int{20, 50, 100} {
			s := scenarios.Calibration
			s.Rate = hz
			cal, err := calibrateOnce(ctx, c, s, opts)
			if err != nil {
				b.Fatalf("calibration at %d Hz: %v", hz, err)
			}
			fmt.Printf("calibration at %d Hz: %s\n%s\n", hz, cal, cal.Table())
			if !cal.Within() {
				b.Errorf("calibration at %d Hz is outside its stated bounds", hz)
			}
		}
	}
}

func calibrateOnce(ctx context.Context, c *cluster.Cluster, s drills.Scenario, opts drills.Options) (drills.Calibration, error) {
	d, err := drills.New(ctx, c, s, opts)
	if err != nil {
		return drills.Calibration{}, err
	}
	defer func() { _ = d.Cleanup(ctx) }()
	for _, step := range []func(context.Context) error{d.CreateNamespace, d.DeployStable, d.StartObserver, d.AwaitSteadyState} {
		if err := step(ctx); err != nil {
			return drills.Calibration{}, err
		}
	}
	return d.Calibrate(ctx)
}
