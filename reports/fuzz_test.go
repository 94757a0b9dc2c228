package reports

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seedReports adds the reports in testdata to a fuzz corpus.
func seedReports(f *testing.F) {
	f.Helper()
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"schema":"` + SchemaVersion + `"}`))
	f.Add([]byte(`{"schema":"` + SchemaVersion + `","mttr":{"total":-1,"phases":{}},"timeline":[{"name":"onset"}],"series":[{}]}`))
}

// FuzzReadAndRender feeds any bytes to what `firedrill report render` and
// `report compare` read: a report that parses must render every view and
// compare against a baseline without panicking.
func FuzzReadAndRender(f *testing.F) {
	seedReports(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseJSON(data)
		if err != nil {
			return
		}
		rs := []*Report{r}
		_ = WriteHTML(io.Discard, r)
		_ = WriteMarkdown(io.Discard, rs)
		_ = WriteJUnit(io.Discard, rs)
		_ = WriteIndex(io.Discard, rs)
		_ = NewSuite(rs)
		b := NewBaselineBy(rs, StatLatest)
		_ = CompareBy(b, rs, StatLatest, 0.2, 500*time.Millisecond)
	})
}

// FuzzReadBaseline feeds any bytes to the baseline reader: one that parses
// must compare against the testdata reports without panicking.
func FuzzReadBaseline(f *testing.F) {
	f.Add([]byte(`{"schema":"` + BaselineSchemaVersion + `","scenarios":{"canary-bad-version":{"mttr":4.5}}}`))
	f.Add([]byte(`{"schema":"` + BaselineSchemaVersion + `","scenarios":{"x":null}}`))
	f.Add([]byte(`{}`))
	var rs []*Report
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		if r, err := ReadJSON(p); err == nil {
			rs = append(rs, r)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBaseline(data)
		if err != nil {
			return
		}
		for _, stat := range []Stat{StatLatest, StatP50, StatP90, StatMax} {
			_ = CompareBy(b, rs, stat, 0.2, 500*time.Millisecond)
		}
	})
}
