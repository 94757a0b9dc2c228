// Package scenarios is the drill catalogue. The scenarios themselves are
// data (catalogue.go); the Ginkgo suite in this package's test files runs
// each one as an Ordered container with one spec per drill phase:
//
//	go tool ginkgo --label-filter='machinery:canary-hook && !slow' ./scenarios
//
// Harness flags go after `--`, for example `-- -firedrill.cluster=mine`.
package scenarios
