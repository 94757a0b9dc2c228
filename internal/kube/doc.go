// Package kube holds the small client-go helpers that the cluster, faults
// and rollback packages share: pod readiness and watch-based waits that
// record when a condition was first observed.
package kube
