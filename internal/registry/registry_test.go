package registry

import (
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := Registry[int]{What: "thing"}
	r.Add("b", 2)
	r.Add("a", 1)
	if v, err := r.Get("a"); err != nil || v != 1 {
		t.Errorf("Get(a) = %d, %v; want 1", v, err)
	}
	if _, err := r.Get("c"); err == nil || err.Error() != `unknown thing "c": want one of a, b` {
		t.Errorf("Get(c) = %v, want the unknown name and the known ones", err)
	}
	if got := r.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names() = %v, want [a b]", got)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), `thing "a" registered twice`) {
			t.Errorf("duplicate Add: panic %v, want one naming it", p)
		}
	}()
	r.Add("a", 3)
}
