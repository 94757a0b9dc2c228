package reports

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the golden files under testdata/golden instead of
// comparing against them, so that an intended change to a renderer is one
// `go test ./reports -update` away and shows up as a reviewable diff.
var update = flag.Bool("update", false, "rewrite testdata/golden files instead of comparing against them")

// golden compares got with testdata/golden/<name>, or rewrites that file when
// -update is set. Every renderer's golden test shares it so that the golden
// workflow is the same for JUnit, Markdown and HTML.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test ./reports -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test ./reports -update and review the diff)\n%s", name, firstDiff(want, got))
	}
}

// firstDiff shows the first differing line of want and got, so a golden
// failure says where to look without dumping whole files into the log.
func firstDiff(want, got []byte) string {
	wl := bytes.Split(want, []byte("\n"))
	gl := bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "files differ only in trailing bytes"
}
