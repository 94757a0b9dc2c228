package scenarios

import (
	"strings"
	"testing"
)

// TestCatalogueIsValid: every scenario in the catalogue passes validation
// and has a unique name, so a typo fails here and not mid-suite.
func TestCatalogueIsValid(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range append(Rollbacks, Calibration) {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if seen[s.Name] {
			t.Errorf("scenario name %s used twice", s.Name)
		}
		seen[s.Name] = true
		for _, l := range s.Labels {
			if strings.ContainsAny(l, "&|!,()/") {
				t.Errorf("%s: label %q has a character Ginkgo label filters reserve", s.Name, l)
			}
		}
	}
}
