// Package registry is the name-keyed registry that fault kinds and
// machineries register themselves in at init, so that the engine looks
// them up by name instead of switching on strings.
package registry
