package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFixtures are real reports written by drills on kind.
var schemaFixtures = []string{"canary-bad-version.json", "canary-crashloop.json"}

// compileSchema compiles the embedded schema, asserting formats so that a
// malformed timestamp fails validation too.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ReportSchema()))
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("report.v1.json", doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile("report.v1.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// schemaInstance parses JSON the way the validator wants it (numbers as
// json.Number), failing the test on malformed input.
func schemaInstance(t *testing.T, data []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse instance: %v", err)
	}
	return v
}

func readSchemaFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSchemaAcceptsFixtures(t *testing.T) {
	sch := compileSchema(t)
	for _, name := range schemaFixtures {
		if err := sch.Validate(schemaInstance(t, readSchemaFixture(t, name))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSchemaAcceptsWrittenReports validates what WriteJSON produces, both for
// a nearly empty report (nil slices are written as null, zero times as
// 0001-01-01) and for one with every optional field set.
func TestSchemaAcceptsWrittenReports(t *testing.T) {
	sch := compileSchema(t)
	full := sampleReport()
	full.Reason = "restored in 4.213s (budget 1m0s)"
	full.SeriesBucket = Duration(500 * time.Millisecond)
	full.Series = []SeriesPoint{
		{Offset: 0, Requests: 10, SuccessRatio: 1, P99: Duration(3 * time.Millisecond)},
		{Offset: Duration(500 * time.Millisecond), Requests: 10, Failures: 4, SuccessRatio: 0.6, P99: Duration(time.Second)},
	}
	full.Observer.Before = LatencyStats{Requests: 200, P50: Duration(2 * time.Millisecond)}
	full.Observer.During = LatencyStats{Requests: 84, Failures: 12}
	full.Faults[1].ForcedCleanup = true
	tests := map[string]*Report{
		"zero": {Scenario: "zero", DrillID: "0", Verdict: VerdictSkipped},
		"full": full,
	}
	for name, r := range tests {
		path, err := WriteJSON(t.TempDir(), r)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(schemaInstance(t, data)); err != nil {
			t.Errorf("%s report: %v\n%s", name, err, data)
		}
	}
}

func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	tests := map[string]func(r map[string]any){
		"wrong schema":         func(r map[string]any) { r["schema"] = "firedrill.report/v2" },
		"unknown field":        func(r map[string]any) { r["owner"] = "sre" },
		"bad verdict":          func(r map[string]any) { r["verdict"] = "passed" },
		"mttr.total as string": func(r map[string]any) { r["mttr"].(map[string]any)["total"] = "4.697s" },
		"missing verdict":      func(r map[string]any) { delete(r, "verdict") },
		"unknown fault field": func(r map[string]any) {
			r["faults"].([]any)[0].(map[string]any)["severity"] = "high"
		},
		"started not a time": func(r map[string]any) { r["started"] = "yesterday" },
	}
	data := readSchemaFixture(t, schemaFixtures[0])
	for name, mutate := range tests {
		r := schemaInstance(t, data).(map[string]any)
		mutate(r)
		err := sch.Validate(r)
		if err == nil {
			t.Errorf("%s: schema accepted the report", name)
			continue
		}
		t.Logf("%s: %v", name, strings.ReplaceAll(err.Error(), "\n", " | "))
	}
}

// TestSchemaMatchesModel holds every object in the schema to the Go type it
// describes: the same property names as the JSON tags, required exactly when
// the field is always written, and no additional properties. Together with
// the validation tests this catches drift in either direction.
func TestSchemaMatchesModel(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(ReportSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	defs, _ := doc["$defs"].(map[string]any)
	objects := map[string]map[string]any{"": doc}
	for name, def := range defs {
		if d, ok := def.(map[string]any); ok && d["type"] == "object" {
			objects[name] = d
		}
	}
	types := map[string]reflect.Type{
		"":               reflect.TypeFor[Report](),
		"cluster":        reflect.TypeFor[ClusterInfo](),
		"fault":          reflect.TypeFor[FaultRecord](),
		"event":          reflect.TypeFor[Event](),
		"phases":         reflect.TypeFor[Phases](),
		"mttr":           reflect.TypeFor[MTTR](),
		"errorBudget":    reflect.TypeFor[ErrorBudget](),
		"observer":       reflect.TypeFor[ObserverStats](),
		"latencyStats":   reflect.TypeFor[LatencyStats](),
		"seriesPoint":    reflect.TypeFor[SeriesPoint](),
		"bound":          reflect.TypeFor[Bound](),
		"calibrationRow": reflect.TypeFor[CalibrationRow](),
	}
	for name := range objects {
		if _, ok := types[name]; !ok {
			t.Errorf("schema object %q is not mapped to a Go type in this test", name)
		}
	}
	for name, typ := range types {
		obj, ok := objects[name]
		if !ok {
			t.Errorf("%s: no object schema %q", typ, name)
			continue
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", typ)
		}
		var props []string
		for p := range obj["properties"].(map[string]any) {
			props = append(props, p)
		}
		var required []string
		for _, p := range obj["required"].([]any) {
			required = append(required, p.(string))
		}
		wantProps, wantRequired := jsonFields(typ)
		slices.Sort(props)
		slices.Sort(required)
		if !slices.Equal(props, wantProps) {
			t.Errorf("%s: schema properties %v, JSON fields %v", typ, props, wantProps)
		}
		if !slices.Equal(required, wantRequired) {
			t.Errorf("%s: schema requires %v, always written %v", typ, required, wantRequired)
		}
	}
}

// jsonFields returns the sorted JSON names of typ's fields and of those that
// encoding/json always writes (no omitempty or omitzero).
func jsonFields(typ reflect.Type) (all, always []string) {
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		optional := slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool {
			return o == "omitempty" || o == "omitzero"
		})
		if !optional {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	slices.Sort(always)
	return all, always
}

func TestReportSchemaIsACopy(t *testing.T) {
	b := ReportSchema()
	b[0] = 'x'
	if ReportSchema()[0] != '{' {
		t.Error("ReportSchema returned the embedded bytes, not a copy")
	}
}
