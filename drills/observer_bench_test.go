//go:build linux || darwin

package drills

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// benchTraffic is how long each rate is driven per iteration: long enough
// for the pace to settle, short enough that the benchmark stays bounded.
const benchTraffic = time.Second

// BenchmarkObserverRate drives a local server at rising rates and reports,
// per rate, the rate achieved (achieved_rps), the process CPU time one
// second of traffic costs (cpu_seconds, an upper bound for the observer
// since the in-process server is included) and the fraction of failed
// requests (failed_ratio). A rate counts as sustained when at least 95% of
// it is achieved with no failure; each rate logs its verdict and the
// highest rate sustained so far, so that the last log of `make bench` says
// how fast a drill's observer can go on this machine.
func BenchmarkObserverRate(b *testing.B) {
	srv := localServer(b, newSwitchable(http.StatusOK))
	sustained := 0
	for _, rate := range []int{DefaultObserverRate, 500, 1000, MaxObserverRate} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			var requests, failed int
			var wall, cpu time.Duration
			for b.Loop() {
				ss, w, c := driveObserver(b, srv.URL, rate, benchTraffic)
				wall += w
				cpu += c
				requests += len(ss)
				for _, s := range ss {
					if s.Failed() {
						failed++
					}
				}
			}
			achieved := float64(requests) / wall.Seconds()
			b.ReportMetric(0, "ns/op") // iterations are fixed-length runs
			b.ReportMetric(achieved, "achieved_rps")
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu_seconds")
			b.ReportMetric(float64(failed)/float64(max(requests, 1)), "failed_ratio")
			verdict := "not sustained"
			if failed == 0 && achieved >= 0.95*float64(rate) {
				verdict, sustained = "sustained", rate
			}
			b.Logf("%d rps %s: achieved %.0f rps, %d of %d failed; highest sustained so far: %d rps",
				rate, verdict, achieved, failed, requests, sustained)
		})
	}
}

// driveObserver runs an observer against url at rate for d and returns its
// samples, the wall time until traffic was told to stop, and the CPU time
// this process spent meanwhile (including draining the last requests).
func driveObserver(b *testing.B, url string, rate int, d time.Duration) ([]Sample, time.Duration, time.Duration) {
	o, err := NewObserver(ObserverConfig{URL: url, Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	cpu0, start := processCPU(b), time.Now()
	if err := o.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	time.Sleep(d)
	wall := time.Since(start)
	ss := o.Stop()
	return ss, wall, processCPU(b) - cpu0
}

// processCPU returns the user plus system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
