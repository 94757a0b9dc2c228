package scenarios_test

import (
	"slices"
	"testing"
)

// TestPortShare: parallel processes split the published NodePorts with no
// port given twice and none left out.
func TestPortShare(t *testing.T) {
	ports := map[int32]int32{}
	for p := int32(30080); p < 30088; p++ {
		ports[p] = p
	}
	var all []int32
	for p := 1; p <= 3; p++ {
		share := portShare(ports, p, 3)
		if len(share) < 2 {
			t.Errorf("process %d gets %v, want at least 2 of 8 ports", p, share)
		}
		all = append(all, share...)
	}
	slices.Sort(all)
	if len(all) != 8 || len(slices.Compact(all)) != 8 {
		t.Errorf("shares cover %v, want each of the 8 ports once", all)
	}
	if got := portShare(ports, 1, 1); len(got) != 8 {
		t.Errorf("a lone process gets %v, want every port", got)
	}
}
