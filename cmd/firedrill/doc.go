// Command firedrill is the thin command line over the firedrill packages:
//
//	firedrill up        create (or reuse) the kind drill cluster and wait until Ready
//	firedrill down      delete the kind drill cluster
//
// Flags and environment are described by `firedrill help`.
package main
