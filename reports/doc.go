// Package reports holds the drill report model and its writers.
//
// A Report is the serialized Result of one drill. Its JSON form, tagged with
// SchemaVersion, is the source of truth: the JUnit, Markdown and HTML views
// are rendered from it, so a report can be re-rendered long after the
// cluster that produced it is gone.
//
// reports is a leaf package: it imports no other firedrill package and has
// no cluster access, so faults, rollback machinery and the drill engine can
// all share its types without import cycles.
package reports
