package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// FileName is the audit log's name in a drill's evidence directory.
const FileName = "audit.jsonl"

// Sources of an entry.
const (
	// SourceFiredrill is a write firedrill made, recorded by its transport.
	SourceFiredrill = "firedrill"
	// SourceWatch is a change a watch saw, made by someone else (the
	// machinery's controller, Kubernetes' own controllers).
	SourceWatch = "watch"
)

// Ref names an object: its resource (with group and subresource) and name.
type Ref struct {
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

func (r Ref) String() string {
	res := r.Resource
	if r.Group != "" {
		res += "." + r.Group
	}
	s := res + "/" + r.Name
	if r.Subresource != "" {
		s += "/" + r.Subresource
	}
	if r.Namespace != "" {
		s = r.Namespace + ": " + s
	}
	return s
}

// Entry is one line of the audit log.
type Entry struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	// Verb is the write (create, update, patch, delete, or a proxied
	// POST to an app) for firedrill's entries, or the watch event (ADDED,
	// MODIFIED, DELETED) for a watch's.
	Verb string `json:"verb"`
	Ref  Ref    `json:"ref"`
	// RVBefore and RVAfter are the object's resourceVersion before and
	// after a write ("" where it had none, or none was returned); a
	// watch's entry has RVAfter only.
	RVBefore string `json:"rvBefore,omitempty"`
	RVAfter  string `json:"rvAfter,omitempty"`
	// Status is the HTTP status of a write; Error says why it failed.
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// Why is the phase and step that made the write.
	Why string `json:"why,omitempty"`
	// Manager and Operation are whom the API server attributes a watched
	// change to (its newest managedFields entry).
	Manager   string `json:"manager,omitempty"`
	Operation string `json:"operation,omitempty"`
	// Detail says what changed, where a watch can tell.
	Detail string `json:"detail,omitempty"`
}

// Log collects a drill's entries; it is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	entries []Entry
}

// Add appends an entry.
func (l *Log) Add(e Entry) {
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

// Entries returns the entries in time order.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	out := slices.Clone(l.entries)
	l.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Entry) int { return a.At.Compare(b.At) })
	return out
}

// Writes returns firedrill's own successful writes, in time order.
func (l *Log) Writes() []Entry {
	var out []Entry
	for _, e := range l.Entries() {
		if e.Source == SourceFiredrill && e.Error == "" {
			out = append(out, e)
		}
	}
	return out
}

// WriteFile writes the log as JSON lines.
func (l *Log) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, e := range l.Entries() {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// Read reads an audit log written by WriteFile.
func Read(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Timeline prints entries one per line, as offsets from the first, for a
// post-mortem.
func Timeline(w io.Writer, entries []Entry) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "no entries")
		return
	}
	t0 := entries[0].At
	for _, e := range entries {
		who := "firedrill"
		if e.Source == SourceWatch {
			who = "watch: " + e.Manager
			if e.Operation != "" {
				who += " (" + e.Operation + ")"
			}
		}
		line := fmt.Sprintf("%s t0%+8.3fs  %-9s %-8s %s", e.At.Format("15:04:05.000"), e.At.Sub(t0).Seconds(), strings.ToLower(e.Verb), who, e.Ref)
		if e.RVBefore != "" || e.RVAfter != "" {
			line += fmt.Sprintf("  rv %s→%s", orDash(e.RVBefore), orDash(e.RVAfter))
		}
		if e.Detail != "" {
			line += "  " + e.Detail
		}
		if e.Why != "" {
			line += "  [" + e.Why + "]"
		}
		if e.Error != "" {
			line += fmt.Sprintf("  FAILED %d: %s", e.Status, e.Error)
		}
		fmt.Fprintln(w, line)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type whyKey struct{}

// WithWhy says, for every write made with ctx, which phase and step made
// it; nested calls join with ": ".
func WithWhy(ctx context.Context, why string) context.Context {
	if prev := WhyOf(ctx); prev != "" {
		why = prev + ": " + why
	}
	return context.WithValue(ctx, whyKey{}, why)
}

// WhyOf is what WithWhy put in ctx.
func WhyOf(ctx context.Context) string {
	s, _ := ctx.Value(whyKey{}).(string)
	return s
}
