package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func sampleReport() *Report {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	return &Report{
		Schema:            SchemaVersion,
		Scenario:          "pod-kill",
		Labels:            []string{"fault:pod-kill", "machinery:canary-hook"},
		DrillID:           "d7f3",
		Namespace:         "drill-d7f3",
		Started:           t0,
		Finished:          t0.Add(95 * time.Second),
		Cluster:           ClusterInfo{Kind: "kind", Name: "firedrill", Context: "kind-firedrill", KubernetesVersion: "v1.33.1"},
		StableVersion:     "v1",
		CanaryVersion:     "v2",
		Machinery:         "canary-hook",
		MachineryEvidence: []Evidence{{Name: "canary replicas", Value: "1 → 0"}, {Name: "stable pods Ready", Value: "3"}},
		DetectedBy:        "harness SLO monitor",
		Faults: []FaultRecord{{
			Name: "kill-canary", Kind: "pod-kill", Backend: "native", Target: "app=sample",
			Injected: t0.Add(10 * time.Second), Confirmed: t0.Add(10*time.Second + 250*time.Millisecond),
			Recovered: t0.Add(40 * time.Second), InjectionLatency: ms(250),
		}, {
			Name: "partition", Kind: "network-partition", Skipped: true, SkipReason: "Chaos Mesh not installed",
		}},
		Timeline: []Event{
			{Name: "onset", At: t0.Add(10250 * time.Millisecond), Offset: ms(10250)},
			{Name: "detected", At: t0.Add(11000 * time.Millisecond), Offset: ms(11000), Detail: "error ratio 0.10"},
			{Name: "detected", At: t0.Add(15000 * time.Millisecond), Offset: ms(15000), Detail: "second breach"},
			{Name: "restored", At: t0.Add(14463 * time.Millisecond), Offset: ms(14463)},
		},
		MTTR: &MTTR{
			Total:  ms(4213),
			Phases: Phases{Detect: ms(750), Decide: ms(1000), Actuate: ms(2000), Recover: ms(463)},
			Minus:  ms(50), Plus: ms(20),
			Budget:  Duration(time.Minute),
			Longest: "actuate",
		},
		ErrorBudget:        ErrorBudget{Failed: 12, Total: 84, Fraction: 12.0 / 84},
		Observer:           ObserverStats{RateHz: 20, Requests: 1900, Failures: 12, P50: ms(3), P90: ms(7), P99: ms(41)},
		ServedVersionAfter: "v1",
		Verdict:            VerdictPass,
		Artifacts:          []string{"logs/app.txt"},
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in   time.Duration
		json string
		back time.Duration
	}{
		{4213 * time.Millisecond, "4.213", 4213 * time.Millisecond},
		{4213*time.Millisecond + 400*time.Microsecond, "4.213", 4213 * time.Millisecond},
		{4213*time.Millisecond + 600*time.Microsecond, "4.214", 4214 * time.Millisecond},
		{0, "0.000", 0},
		{time.Millisecond, "0.001", time.Millisecond},
		{-1500 * time.Millisecond, "-1.500", -1500 * time.Millisecond},
		{90 * time.Minute, "5400.000", 90 * time.Minute},
	}
	for _, tt := range tests {
		b, err := json.Marshal(Duration(tt.in))
		if err != nil {
			t.Fatalf("marshal %v: %v", tt.in, err)
		}
		if string(b) != tt.json {
			t.Errorf("marshal %v = %s, want %s", tt.in, b, tt.json)
		}
		var d Duration
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if time.Duration(d) != tt.back {
			t.Errorf("unmarshal %s = %v, want %v", b, time.Duration(d), tt.back)
		}
	}
}

func TestDurationUnmarshalRejectsNonNumbers(t *testing.T) {
	for _, in := range []string{`"4s"`, `true`, `1e300`} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("unmarshal %s: want an error, got %v", in, d)
		}
	}
	d := Duration(time.Second)
	if err := json.Unmarshal([]byte("null"), &d); err != nil || d != Duration(time.Second) {
		t.Errorf("unmarshal null = %v, %v; want 1s unchanged", d, err)
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	want := sampleReport()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"drillID":"d7f3"`, `"longestPhase":"actuate"`, `"total":4.213`, `"phases":{"detect":0.750,`, `"p99":0.041`, `"injectionLatency":0.250`, `"boundMinus":0.050,"boundPlus":0.020`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s:\n%s", field, b)
		}
	}
	if strings.Contains(string(b), `"injected":"0001-01-01`) {
		t.Errorf("zero fault times should be omitted:\n%s", b)
	}
	var got Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, *want)
	}
}

func TestEventReturnsFirstMatch(t *testing.T) {
	r := sampleReport()
	e, ok := r.Event("detected")
	if !ok || e.Detail != "error ratio 0.10" || e.Offset != Duration(11*time.Second) {
		t.Errorf("Event(detected) = %+v, %v; want the first detected event", e, ok)
	}
	if e, ok := r.Event("decided"); ok {
		t.Errorf("Event(decided) = %+v, true; want not found", e)
	}
}

func TestWriteReadJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "reports")
	want := sampleReport()
	path, err := WriteJSON(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if wantPath := filepath.Join(dir, "pod-kill-d7f3.json"); path != wantPath {
		t.Errorf("path = %s, want %s", path, wantPath)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "{\n  \"schema\": \"firedrill.report/v1\",\n") || !strings.HasSuffix(string(raw), "}\n") {
		t.Errorf("report is not indented JSON ending in a newline:\n%s", raw)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the report (temp file left behind?)", len(entries))
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back differs:\n got %+v\nwant %+v", *got, *want)
	}
}

func TestWriteJSONOverwritesAndSanitizes(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport()
	r.Schema = ""
	r.Scenario = "../pod kill/argo"
	path, err := WriteJSON(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "..-pod-kill-argo-d7f3.json"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	if r.Schema != "" {
		t.Errorf("WriteJSON changed the caller's report schema to %q", r.Schema)
	}
	r.Verdict = VerdictFail
	if _, err := WriteJSON(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != SchemaVersion || got.Verdict != VerdictFail {
		t.Errorf("got schema %q verdict %q, want %q %q", got.Schema, got.Verdict, SchemaVersion, VerdictFail)
	}
}

func TestWriteJSONRefuses(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport()
	r.Schema = "firedrill.report/v2"
	if _, err := WriteJSON(dir, r); err == nil || !strings.Contains(err.Error(), "firedrill.report/v2") {
		t.Errorf("WriteJSON with schema v2: err = %v, want one naming the schema", err)
	}
	r = sampleReport()
	r.DrillID = ""
	if _, err := WriteJSON(dir, r); err == nil {
		t.Error("WriteJSON without drill ID: want an error")
	}
	if _, err := WriteJSON(dir, nil); err == nil {
		t.Error("WriteJSON(nil): want an error")
	}
}

func TestReadJSONRefusesWrongSchema(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"v2.json":      `{"schema":"firedrill.report/v2","scenario":"x"}`,
		"missing.json": `{"scenario":"x"}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadJSON(path)
		if err == nil || !strings.Contains(err.Error(), "schema") || !strings.Contains(err.Error(), SchemaVersion) {
			t.Errorf("ReadJSON(%s): err = %v, want a schema error naming %s", name, err, SchemaVersion)
		}
	}
	if _, err := ReadJSON(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("ReadJSON of a missing file: want an error")
	}
}
