package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAllowlist(t *testing.T) {
	got, err := ParseAllowlist([]byte("# staging clusters\nstaging-eu\n\n  staging-us # the US one\nstaging-eu\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "staging-eu,staging-us" {
		t.Errorf("contexts = %v, want [staging-eu staging-us]", got)
	}
	if _, err := ParseAllowlist([]byte("ok\nstaging eu\n")); err == nil || !strings.Contains(err.Error(), `line 2: "staging eu"`) {
		t.Errorf("err = %v, want line 2 named", err)
	}
}

func TestAllowlistCheck(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, AllowFile), []byte("from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(AllowEnv, "from-env, other")
	t.Setenv("FIREDRILL_CACHE", t.TempDir())
	a, err := LoadAllowlist(dir, "from-flag")
	if err != nil {
		t.Fatal(err)
	}
	for ctx, source := range map[string]string{"from-file": AllowFile, "from-env": AllowEnv, "other": AllowEnv, "from-flag": "-firedrill.allow-context"} {
		if err := a.Check("", ctx); err != nil {
			t.Errorf("Check(%s) = %v, want allowed", ctx, err)
		}
		if got := a.Source(ctx); got != source {
			t.Errorf("Source(%s) = %q, want %q", ctx, got, source)
		}
	}
	err = a.Check("", "prod-eu")
	if err == nil || !strings.Contains(err.Error(), `context "prod-eu" is not allowed`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Check(prod-eu) = %v, want a one-line refusal naming it", err)
	}
	// A kind-<name> context is firedrill's own only when firedrill's
	// stamp says it created that cluster.
	if err := a.Check("", "kind-somebody-elses"); err == nil {
		t.Error("a kind context firedrill did not create was allowed")
	}
}

func FuzzParseAllowlist(f *testing.F) {
	f.Add([]byte("staging\n# comment\n"))
	f.Add([]byte("a b\n"))
	f.Add([]byte("\x00\xff#\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		contexts, err := ParseAllowlist(raw)
		if err != nil {
			return
		}
		for _, c := range contexts {
			if c == "" || strings.ContainsAny(c, " \t#\n") {
				t.Fatalf("parsed context %q", c)
			}
		}
	})
}
