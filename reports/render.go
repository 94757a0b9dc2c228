package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// File names RenderDir writes next to the drill reports, exported so that
// the CLI and the Ginkgo suite can point people at them.
const (
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
	IndexFile   = "index.html"
	SuiteFile   = "firedrill-suite.json"
)

// reportSchemaPrefix marks a drill report of any version: LoadDir refuses a
// version it cannot read instead of silently leaving that drill out.
const reportSchemaPrefix = "firedrill.report/"

// LoadDir reads every drill report in dir: each *.json file whose "schema" is
// SchemaVersion, sorted by file name. Other JSON files sharing the directory
// (Ginkgo's suite.json, firedrill-suite.json, a baseline) are skipped
// silently. A file that is not valid JSON, or that claims a drill report
// schema but cannot be read, is an error naming the file: a truncated or
// future-version report must not quietly drop a drill from the summary.
func LoadDir(dir string) ([]*Report, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load reports: %w", err)
	}
	var rs []*Report
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		r, err := loadReport(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if r != nil {
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// loadReport reads path as a drill report, or returns nil, nil when path is
// another kind of JSON document.
func loadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("read report %s: not valid JSON", path)
	}
	if !strings.HasPrefix(schemaOf(data), reportSchemaPrefix) {
		return nil, nil
	}
	return ReadJSON(path)
}

// schemaOf returns the "schema" string of a JSON object, or "" when data is
// not an object or has no string schema (a Ginkgo report is an array).
func schemaOf(data []byte) string {
	var head map[string]json.RawMessage
	if json.Unmarshal(data, &head) != nil {
		return ""
	}
	var schema string
	if json.Unmarshal(head["schema"], &schema) != nil {
		return ""
	}
	return schema
}

// RenderDir regenerates every view of the drill reports in dir from their
// JSON alone, with no cluster: JUnitFile, SummaryFile, IndexFile, SuiteFile
// and one HTMLName per drill. Each file is written atomically, so a reader
// never sees half a page, and an error names the file. A directory without
// drill reports is an error, since rendering nothing usually means the
// wrong directory.
func RenderDir(dir string) error {
	rs, err := LoadDir(dir)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return fmt.Errorf("no drill reports in %s", dir)
	}
	files := []renderedFile{
		{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, rs) }},
		{SummaryFile, func(w io.Writer) error { return WriteMarkdown(w, rs) }},
		{IndexFile, func(w io.Writer) error { return WriteIndex(w, rs) }},
		{SuiteFile, func(w io.Writer) error { return writeSuite(w, NewSuite(rs)) }},
	}
	for _, r := range rs {
		files = append(files, renderedFile{HTMLName(r), func(w io.Writer) error { return WriteHTML(w, r) }})
	}
	if rows := Strategies(rs); len(rows) > 0 {
		files = append(files,
			renderedFile{StrategiesMarkdownFile, func(w io.Writer) error { return WriteStrategiesMarkdown(w, rows) }},
			renderedFile{StrategiesHTMLFile, func(w io.Writer) error { return WriteStrategiesHTML(w, rows) }})
	}
	for _, f := range files {
		if err := renderFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

// renderedFile is one file RenderDir writes: its name in dir and its renderer.
type renderedFile struct {
	name  string
	write func(io.Writer) error
}

// renderFile renders into memory first and then writes path atomically, so
// a renderer that fails halfway leaves the previous file in place.
func renderFile(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	if err := writeAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	return nil
}

// writeSuite writes s as indented JSON.
func writeSuite(w io.Writer, s *Suite) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write suite: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
