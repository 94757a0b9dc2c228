// Package kinds registers every fault kind a scenario can name, one file
// per kind. Each file owns the kind's name, its backends and default, the
// fields it honours, its availability on this host, how it is built from a
// faults.Spec and the machinery's placement, how its onset is confirmed,
// and the user-visible effect the drill waits for. Adding a kind is one new
// file here; drills/ looks kinds up by name and holds no per-kind code.
package kinds
