// Package cluster gives drills a Kubernetes cluster: a kind cluster created
// from kind-config.yaml (the only place that imports sigs.k8s.io/kind), or an
// existing cluster reached through a kubeconfig file and context.
//
// Every cluster it hands out has a dedicated kubeconfig file; the user's
// ~/.kube/config is never read or written for a kind cluster. kind's own calls
// take no context and only warn when readiness times out, so this package
// wraps them in context-aware calls and does its own readiness wait.
package cluster
