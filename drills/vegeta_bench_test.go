//go:build linux || darwin

package drills

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vegetaTraffic is how long each side drives the target per rate.
const vegetaTraffic = 5 * time.Second

// BenchmarkObserverVsVegeta drives the same target, the sample app run as
// its own process on loopback, at the same rates with the drill observer
// and with the `vegeta attack` CLI built from the module the observer uses,
// side by side: achieved rate and client CPU per second of traffic.
func BenchmarkObserverVsVegeta(b *testing.B) {
	dir := b.TempDir()
	app, vegeta := buildTool(b, dir, "sampleapp", "../sampleapp", ""), buildTool(b, dir, "vegeta", ".", "github.com/tsenart/vegeta/v12")
	url := startSampleApp(b, app)
	for b.Loop() {
		for _, rate := range []int{DefaultObserverRate, 500, 1000} {
			oRate, oCPU := observerRun(b, url, rate)
			vRate, vCPU := vegetaRun(b, vegeta, url, rate)
			b.Logf("%d rps: observer %.0f rps %.3f cpu-s/s; vegeta %.0f rps %.3f cpu-s/s", rate, oRate, oCPU, vRate, vCPU)
			fmt.Printf("BENCH observer_vs_vegeta rate=%d observer_rps=%.0f observer_cpu=%.3f vegeta_rps=%.0f vegeta_cpu=%.3f\n", rate, oRate, oCPU, vRate, vCPU)
		}
	}
}

// buildTool builds a main package: of this module (pkg a path), or of a
// dependency module's root (mod set), into dir.
func buildTool(b *testing.B, dir, name, pkg, mod string) string {
	out := filepath.Join(dir, name)
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if mod != "" {
		modDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
		if err != nil {
			b.Fatalf("find module %s: %v", mod, err)
		}
		build.Dir = strings.TrimSpace(string(modDir))
		build.Env = append(build.Env, "GOFLAGS=-mod=mod")
	}
	if raw, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", name, err, raw)
	}
	return out
}

// startSampleApp runs the sample app on free loopback ports until the
// benchmark ends and returns its user URL once it answers.
func startSampleApp(b *testing.B, bin string) string {
	port, admin := freePort(b), freePort(b)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "ADMIN_PORT="+strconv.Itoa(admin))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return url
		}
	}
	b.Fatalf("sample app did not answer on %s", url)
	return ""
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// observerRun drives url with the observer and returns the rate achieved
// and the CPU seconds this process spent per second of traffic.
func observerRun(b *testing.B, url string, rate int) (float64, float64) {
	ss, wall, cpu := driveObserver(b, url, rate, vegetaTraffic)
	return float64(len(ss)) / wall.Seconds(), cpu.Seconds() / wall.Seconds()
}

// vegetaRun drives url with the vegeta CLI at the same rate and timeout,
// and returns the rate it reports and its CPU seconds per second.
func vegetaRun(b *testing.B, vegeta, url string, rate int) (float64, float64) {
	results := filepath.Join(b.TempDir(), "results.bin")
	attack := exec.Command(vegeta, "attack", "-rate", strconv.Itoa(rate), "-duration", vegetaTraffic.String(),
		"-timeout", DefaultObserverTimeout.String(), "-output", results)
	attack.Stdin = strings.NewReader("GET " + url + "\n")
	start := time.Now()
	if raw, err := attack.CombinedOutput(); err != nil {
		b.Fatalf("vegeta attack: %v\n%s", err, raw)
	}
	wall := time.Since(start).Seconds()
	cpu := (attack.ProcessState.UserTime() + attack.ProcessState.SystemTime()).Seconds()
	raw, err := exec.Command(vegeta, "report", "-type", "json", results).Output()
	if err != nil {
		b.Fatalf("vegeta report: %v", err)
	}
	var rep struct {
		Requests int `json:"requests"`
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&rep); err != nil {
		b.Fatalf("vegeta report: %v", err)
	}
	return float64(rep.Requests) / wall, cpu / wall
}
