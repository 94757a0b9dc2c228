// Command firedrill is the thin command line over the firedrill packages:
//
//	firedrill up        create (or reuse) the kind drill cluster and wait until Ready
//	firedrill down      delete the kind drill cluster
//	firedrill report render DIR
//	                    regenerate JUnit, Markdown and HTML from a run's JSON reports
//	firedrill report compare --baseline FILE DIR
//	                    fail (exit 1) when a scenario's MTTR regressed against the baseline
//
// Flags and environment are described by `firedrill help`.
package main
