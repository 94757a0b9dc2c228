package reports

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browserTimeout bounds one headless Chromium run; a cold start on a
// 2-core CI runner takes a few seconds, a hang must not eat the test budget.
const browserTimeout = 60 * time.Second

// browserRequired says whether a missing Chromium fails the test instead of
// skipping it: in CI, whose setup installs it, and when FIREDRILL_E2E=1.
func browserRequired() bool {
	ci := os.Getenv("CI")
	return ci == "true" || ci == "1" || os.Getenv("FIREDRILL_E2E") == "1"
}

// findChromium returns the Chromium binary on PATH, or skips or fails t
// when there is none (see browserRequired).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if browserRequired() {
		t.Fatal("chromium not installed: apt-get install chromium")
	}
	t.Skip("chromium not installed; set FIREDRILL_E2E=1 to require it")
	return ""
}

// browserArtifactDir is where screenshots are kept after the test, so that
// a person (or a CI artifact upload) can look at the rendered report:
// $FIREDRILL_ARTIFACTS, else <repo>/_runs/test-artifacts (gitignored).
func browserArtifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FIREDRILL_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "_runs", "test-artifacts")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runChromium runs headless Chromium on the page at file and returns its
// stdout. The profile lives in a throwaway directory, and every background
// service that could reach the network is off, so that the run proves the
// page renders from the file alone.
func runChromium(t *testing.T, chromium, file string, extra ...string) []byte {
	t.Helper()
	profile, err := os.MkdirTemp("", "firedrill-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Best effort: Chromium helpers may still be writing as it exits, and a
	// leftover profile must not fail the test.
	t.Cleanup(func() { _ = os.RemoveAll(profile) })

	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--window-size=1400,2000",
	}
	args = append(append(args, extra...), "file://"+file)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Logf("chromium stderr:\n%s", stderr.String())
		t.Fatalf("chromium %s: %v", strings.Join(extra, " "), err)
	}
	return stdout.Bytes()
}

func TestHTMLInBrowser(t *testing.T) {
	chromium := findChromium(t)
	dir := browserArtifactDir(t)
	for _, name := range htmlFixtures {
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(dir, "html-"+name+".html")
			if err := os.WriteFile(page, []byte(htmlRender(t, htmlFixtureReport(t, name))), 0o644); err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(dir, "html-"+name+".png")
			_ = os.Remove(shot) // a stale screenshot must not pass for a new one
			runChromium(t, chromium, page, "--screenshot="+shot)
			t.Logf("screenshot: %s", shot)
			if err := checkScreenshot(shot); err != nil {
				t.Error(err)
			}
			dom := runChromium(t, chromium, page, "--dump-dom")
			checkDumpedDOM(t, string(dom))
		})
	}
}

// checkScreenshot decodes the PNG at path and checks that the page really
// painted: a full-size image, many colours, and each marker's colour
// somewhere, which a blank or half-loaded page would not have.
func checkScreenshot(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 {
		return fmt.Errorf("screenshot %s is %dx%d, want at least 800x600", path, b.Dx(), b.Dy())
	}
	if n := sampledColours(img, 40); n < 3 {
		return fmt.Errorf("screenshot %s looks blank: %d colours in a 40x40 sample", path, n)
	}
	for _, m := range chartMarkers {
		if !hasColour(img, m.Color, 24) {
			return fmt.Errorf("screenshot %s: no pixel near %s's colour %s; the chart did not paint", path, m.Name, htmlHexColor(m.Color))
		}
	}
	return nil
}

// sampledColours counts distinct colours on an n×n grid over img.
func sampledColours(img image.Image, n int) int {
	b := img.Bounds()
	seen := map[color.RGBA]bool{}
	for i := range n {
		for j := range n {
			x := b.Min.X + i*b.Dx()/n
			y := b.Min.Y + j*b.Dy()/n
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

// hasColour reports whether any pixel of img is within tol of want on every
// channel; antialiasing keeps a thin line's centre close to its colour.
func hasColour(img image.Image, want color.NRGBA, tol int) bool {
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d >= -tol && d <= tol }
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, want.R) && near(g, want.G) && near(bl, want.B) {
				return true
			}
		}
	}
	return false
}

// checkDumpedDOM checks the DOM Chromium built: one <svg> holding each
// marker label, the budget label, and the report's tables.
func checkDumpedDOM(t *testing.T, dom string) {
	t.Helper()
	start, end := strings.Index(dom, "<svg"), strings.LastIndex(dom, "</svg>")
	if start < 0 || end < start {
		t.Fatalf("dumped DOM has no <svg> element (%d bytes)", len(dom))
	}
	svg := dom[start:end]
	for _, name := range append(markerNames(), chartBudgetLabel) {
		re := regexp.MustCompile(`<text[^>]*>` + regexp.QuoteMeta(name) + `</text>`)
		if n := len(re.FindAllString(svg, -1)); n != 1 {
			t.Errorf("dumped DOM: %d <text> elements %q in the <svg>, want 1", n, name)
		}
	}
	for _, table := range []string{"summary", "timeline", "faults", "latency"} {
		if !strings.Contains(dom, `<table class="`+table+`">`) {
			t.Errorf("dumped DOM lacks the %s table", table)
		}
	}
}

// markerNames are the names of chartMarkers.
func markerNames() []string {
	var names []string
	for _, m := range chartMarkers {
		names = append(names, m.Name)
	}
	return names
}

func TestCheckScreenshotRejectsBlank(t *testing.T) {
	blank := image.NewRGBA(image.Rect(0, 0, 1400, 2000))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	path := filepath.Join(t.TempDir(), "blank.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, blank); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkScreenshot(path); err == nil {
		t.Error("a blank white screenshot passed")
	}
}
