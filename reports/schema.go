package reports

import (
	"bytes"
	_ "embed"
)

// reportSchema is the JSON Schema (draft 2020-12) of SchemaVersion reports.
// It is embedded rather than generated so that it is reviewed like code, and
// the schema tests hold it to the model: they validate real reports against
// it and compare its properties with the Go types' JSON tags.
//
//go:embed schema/report.v1.json
var reportSchema []byte

// ReportSchema returns the JSON schema of SchemaVersion reports, so that
// dashboards and other readers of the JSON can validate what they ingest
// without a checkout of this repository. Each call returns a fresh copy.
// The reports package itself does not validate at run time; it stays
// standard-library only, and the tests keep the schema and the model in step.
func ReportSchema() []byte { return bytes.Clone(reportSchema) }
