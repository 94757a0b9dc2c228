package rollback

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPinnedRef(t *testing.T) {
	tests := []struct{ image, imageID, want string }{
		{"firedrill/sampleapp:abc", "docker.io/firedrill/sampleapp@sha256:0123", "firedrill/sampleapp@sha256:0123"},
		{"firedrill/sampleapp:abc", "docker.io/library/import-2026-12-01@sha256:8bee", "firedrill/sampleapp@sha256:8bee"},
		{"localhost:5000/firedrill/sampleapp:v1", "localhost:5000/firedrill/sampleapp@sha256:beef", "localhost:5000/firedrill/sampleapp@sha256:beef"},
		{"localhost:5000/sampleapp", "localhost:5000/sampleapp@sha256:beef", "localhost:5000/sampleapp@sha256:beef"},
		{"firedrill/sampleapp@sha256:old", "docker.io/firedrill/sampleapp@sha256:new", "firedrill/sampleapp@sha256:new"},
	}
	for _, tt := range tests {
		if got, err := pinnedRef(tt.image, tt.imageID); err != nil || got != tt.want {
			t.Errorf("pinnedRef(%q, %q) = %q, %v; want %q", tt.image, tt.imageID, got, err, tt.want)
		}
	}
	for _, id := range []string{"firedrill/sampleapp:v1", "", "sha256:cafe"} {
		if got, err := pinnedRef("firedrill/sampleapp:v1", id); err == nil || !strings.Contains(err.Error(), "not a digest reference") {
			t.Errorf("pinnedRef(%q) = %q, %v; want it refused", id, got, err)
		}
	}
}

func TestSameDigest(t *testing.T) {
	ids := []string{"docker.io/library/import-2026-12-01@sha256:8bee", "docker.io/firedrill/sampleapp@sha256:8bee"}
	if !sameDigest(ids, "sha256:8bee") {
		t.Errorf("sameDigest(%v) = false, want true: both name sha256:8bee", ids)
	}
	if sameDigest(append(ids, "docker.io/firedrill/sampleapp@sha256:f9c3"), "sha256:8bee") || sameDigest(nil, "sha256:8bee") {
		t.Error("sameDigest accepted another digest or no pods")
	}
}

func rs(name, revision string) appsv1.ReplicaSet {
	return appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{revisionAnnotation: revision}}}
}

func TestPrevious(t *testing.T) {
	tests := []struct {
		name string
		sets []appsv1.ReplicaSet
		want string // name of the set undo goes back to; "" for an error
	}{
		{"two revisions", []appsv1.ReplicaSet{rs("new", "2"), rs("old", "1")}, "old"},
		{"order does not matter", []appsv1.ReplicaSet{rs("old", "1"), rs("new", "2")}, "old"},
		{"the second-highest of many", []appsv1.ReplicaSet{rs("a", "1"), rs("c", "10"), rs("b", "9")}, "b"},
		{"numeric, not lexical", []appsv1.ReplicaSet{rs("nine", "9"), rs("ten", "10"), rs("one", "1")}, "nine"},
		{"unnumbered sets are ignored", []appsv1.ReplicaSet{rs("x", ""), rs("new", "2"), rs("old", "1")}, "old"},
		{"only one revision", []appsv1.ReplicaSet{rs("only", "1")}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := previous(tt.sets)
			switch {
			case tt.want == "" && (err == nil || !strings.Contains(err.Error(), "no earlier revision")):
				t.Errorf("previous() = %v, %v; want no earlier revision", got, err)
			case tt.want != "" && (err != nil || got.Name != tt.want):
				t.Errorf("previous() = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestRolloutUndoChecksPlan(t *testing.T) {
	spec, err := Lookup(RolloutUndo)
	if err != nil {
		t.Fatal(err)
	}
	p := Plan{Stable: Version{Name: "v1", Replicas: 3}, Canary: Version{Name: "v2"}, Detection: DetectKubernetes}
	if err := spec.Check(p); err != nil {
		t.Errorf("Check(valid) = %v", err)
	}
	p.Canary.Replicas = 1
	if err := spec.Check(p); err == nil || !strings.Contains(err.Error(), "canary.replicas 1") {
		t.Errorf("Check(canary replicas) = %v, want canary.replicas named", err)
	}
	if spec.Separate {
		t.Error("rollout-undo runs both versions in one Deployment, but says Separate")
	}
}
