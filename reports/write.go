package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteJSON writes r to dir/<scenario>-<drillID>.json and returns the path.
// It creates dir, and writes through a temporary file renamed into place so
// that a drill interrupted mid-write never leaves a truncated report for the
// renderers to choke on. Characters of the scenario name or drill ID that are
// unsafe in a file name become '-'. An empty Schema is written as
// SchemaVersion; any other schema is refused, since this writer only knows v1.
func WriteJSON(dir string, r *Report) (string, error) {
	if r == nil {
		return "", errors.New("write report: nil report")
	}
	if r.Scenario == "" || r.DrillID == "" {
		return "", fmt.Errorf("write report: scenario %q and drill ID %q must both be set", r.Scenario, r.DrillID)
	}
	out := *r
	if out.Schema == "" {
		out.Schema = SchemaVersion
	}
	if out.Schema != SchemaVersion {
		return "", fmt.Errorf("write report: schema %q, this writer only writes %q", out.Schema, SchemaVersion)
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	path := filepath.Join(dir, FileName(r.Scenario, r.DrillID))
	if err := writeAtomic(path, data); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return path, nil
}

// FileName is the base name WriteJSON uses, exported so that renderers can
// name their siblings (.xml, .md, .html) after the same drill.
func FileName(scenario, drillID string) string {
	return safeName(scenario) + "-" + safeName(drillID) + ".json"
}

// safeName keeps letters, digits, '.', '_' and '-' and maps everything else
// to '-', so a scenario called "pod-kill/argo abort" cannot escape dir.
func safeName(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			return c
		}
		return '-'
	}, s)
}

// writeAtomic writes data next to path and renames it over path, so readers
// see either the old file or the complete new one.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadJSON reads a report written by WriteJSON. It refuses a report whose
// schema is not SchemaVersion rather than render fields it may misread.
func ReadJSON(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	r, err := ParseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return r, nil
}

// ParseJSON decodes a report, refusing another schema.
func ParseJSON(data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("schema %q is not supported, want %q", r.Schema, SchemaVersion)
	}
	return &r, nil
}
