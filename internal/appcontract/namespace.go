package appcontract

import (
	"fmt"
	"regexp"
	"strings"
)

// dnsLabel is RFC 1123's label, as Kubernetes requires of namespace names.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// NamespacePrefix starts the name of every drill namespace. Faults act on
// whatever they are pointed at, so the prefix is their guard against a typo
// that would break a shared namespace.
const NamespacePrefix = "drill-"

// IsDrillNamespace reports whether ns is named like a drill namespace: the
// prefix, something after it, and a valid DNS label.
func IsDrillNamespace(ns string) bool {
	return len(ns) > len(NamespacePrefix) && strings.HasPrefix(ns, NamespacePrefix) &&
		len(ns) <= 63 && dnsLabel.MatchString(ns)
}

// CheckNamespace refuses, in one line, a namespace that is not a drill
// namespace; who names the caller (e.g. "native: pod-kill").
func CheckNamespace(who, ns string) error {
	if !IsDrillNamespace(ns) {
		return fmt.Errorf("%s: refusing to act on namespace %q: not a drill namespace (%s*)", who, ns, NamespacePrefix)
	}
	return nil
}

// DrillNamespace is the namespace of one drill of a scenario.
func DrillNamespace(scenario, id string) string { return NamespacePrefix + scenario + "-" + id }
