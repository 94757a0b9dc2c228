package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
)

// Where the kubeconfig contexts firedrill may write to are listed. The kind
// clusters firedrill created itself need no listing.
const (
	// AllowFile, at the repository root, lists one context per line; "#"
	// starts a comment.
	AllowFile = "allowed-contexts"
	// AllowEnv lists more, separated by commas.
	AllowEnv = "FIREDRILL_ALLOW_CONTEXTS"
)

// Allowlist is the set of kubeconfig contexts firedrill may write to, with
// where each was listed.
type Allowlist struct {
	from map[string]string
}

// LoadAllowlist reads the allowlist file in dir (missing is empty), the
// environment variable and the contexts given on the command line.
func LoadAllowlist(dir string, flagged ...string) (Allowlist, error) {
	a := Allowlist{from: map[string]string{}}
	path := filepath.Join(dir, AllowFile)
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return a, fmt.Errorf("allowlist: %w", err)
	default:
		contexts, err := ParseAllowlist(raw)
		if err != nil {
			return a, fmt.Errorf("allowlist %s: %w", path, err)
		}
		a.add(AllowFile, contexts...)
	}
	a.add(AllowEnv, splitList(os.Getenv(AllowEnv))...)
	for _, f := range flagged {
		a.add("-firedrill.allow-context", splitList(f)...)
	}
	return a, nil
}

func (a Allowlist) add(source string, contexts ...string) {
	for _, c := range contexts {
		if _, ok := a.from[c]; !ok {
			a.from[c] = source
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseAllowlist reads an allowlist file: one context per line, blank lines
// and "#" comments ignored. A line with spaces inside is refused, naming
// the line, since no context name has them and it is likely a typo.
func ParseAllowlist(raw []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.ContainsAny(line, " \t"):
			return nil, fmt.Errorf("line %d: %q is not one context name", n, line)
		}
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Check refuses, in one line naming the context and how to allow it, a
// context that is not listed and is not a kind cluster firedrill created
// (kubeconfig is where the context is defined, "" for the default).
func (a Allowlist) Check(kubeconfig, context string) error {
	if _, ok := a.from[context]; ok {
		return nil
	}
	if _, own := OwnKind(kubeconfig, context); own {
		return nil
	}
	return fmt.Errorf("context %q is not allowed: firedrill writes only to kind clusters it created and to contexts listed in %s, %s or -firedrill.allow-context; add it to one to drill it",
		context, AllowFile, AllowEnv)
}

// Source says where context was allowed ("" when it was not listed).
func (a Allowlist) Source(context string) string { return a.from[context] }

// OwnKind reports whether context is kind-<name> for a kind cluster
// firedrill created (its config stamp is beside firedrill's own
// kubeconfig) and points at the same API server as that kubeconfig, and
// names that cluster.
func OwnKind(kubeconfig, context string) (string, bool) {
	name, ok := strings.CutPrefix(context, "kind-")
	if !ok {
		return "", false
	}
	own := filepath.Join(CacheDir(), "kubeconfig", name)
	if _, err := os.Stat(own + ".config-sha256"); err != nil {
		return "", false
	}
	if kubeconfig == "" {
		kubeconfig = defaultUserKubeconfig()
	}
	theirs, err1 := serverOf(kubeconfig, context)
	ours, err2 := serverOf(own, context)
	return name, err1 == nil && err2 == nil && theirs == ours
}

// serverOf is the API server URL a kubeconfig context points at.
func serverOf(kubeconfig, context string) (string, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return "", err
	}
	return cfg.Host, nil
}
