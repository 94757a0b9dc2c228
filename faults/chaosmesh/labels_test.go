package chaosmesh

import (
	"bytes"
	"testing"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

func TestLabelRendererLabelsEveryObject(t *testing.T) {
	in := bytes.NewBufferString("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  labels:\n    app: x\n---\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
	out, err := labelRenderer{"firedrill.dev/run": "r1"}.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kube.Documents(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d objects out, want 2:\n%s", len(docs), out)
	}
	for _, d := range docs {
		if d.GetLabels()["firedrill.dev/run"] != "r1" {
			t.Errorf("%s %s labels %v", d.GetKind(), d.GetName(), d.GetLabels())
		}
	}
	if docs[0].GetLabels()["app"] != "x" {
		t.Errorf("the object's own label was lost: %v", docs[0].GetLabels())
	}
	if _, err := (labelRenderer{"a": "b"}).Run(bytes.NewBufferString("{not yaml")); err == nil {
		t.Error("a broken manifest was passed on")
	}
}
