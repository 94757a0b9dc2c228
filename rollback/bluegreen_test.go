package rollback

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

func slice(endpoints ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{Endpoints: endpoints}
}

func endpoint(pod string, ready bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: pod}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
}

func TestOnlyEndpoints(t *testing.T) {
	blue := map[string]bool{"app-blue-1": true, "app-blue-2": true}
	tests := []struct {
		name   string
		slices []*discoveryv1.EndpointSlice
		want   bool
		detail string
	}{
		{"only blue", []*discoveryv1.EndpointSlice{slice(endpoint("app-blue-1", true), endpoint("app-blue-2", true))}, true, "2 ready blue endpoint(s), 0 other"},
		{"a green endpoint left", []*discoveryv1.EndpointSlice{slice(endpoint("app-blue-1", true)), slice(endpoint("app-green-1", true))}, false, "1 other"},
		{"a green endpoint left, not ready", []*discoveryv1.EndpointSlice{slice(endpoint("app-blue-1", true), endpoint("app-green-1", false))}, false, "1 other"},
		{"no ready endpoint", []*discoveryv1.EndpointSlice{slice(endpoint("app-blue-1", false))}, false, "0 ready"},
		{"no slices", nil, false, "0 ready"},
		{"an endpoint without a pod", []*discoveryv1.EndpointSlice{slice(endpoint("app-blue-1", true), discoveryv1.Endpoint{})}, false, "1 other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, detail := onlyEndpoints(tt.slices, blue)
			if got != tt.want || !strings.Contains(detail, tt.detail) {
				t.Errorf("onlyEndpoints() = %v, %q; want %v and %q", got, detail, tt.want, tt.detail)
			}
		})
	}
}

func TestBlueGreenChecksPlan(t *testing.T) {
	spec, err := Lookup(BlueGreen)
	if err != nil {
		t.Fatal(err)
	}
	p := Plan{Stable: Version{Name: "v1", Replicas: 3}, Canary: Version{Name: "v2", Replicas: 1}, Detection: DetectHarness}
	if err := spec.Check(p); err == nil || !strings.Contains(err.Error(), "canary.replicas 1: blue-green deploys green at blue's replica count") {
		t.Errorf("Check(canary replicas) = %v, want canary.replicas refused", err)
	}
}

func TestRegistry(t *testing.T) {
	names := strings.Join(Names(), ",")
	for _, want := range []string{BlueGreen, CanaryHook, RolloutUndo} {
		if !strings.Contains(names, want) {
			t.Errorf("Names() = %s, want %s among them", names, want)
		}
	}
	if _, err := Lookup("psychic"); err == nil || !strings.Contains(err.Error(), `unknown machinery "psychic": want one of`) {
		t.Errorf("Lookup(unknown) = %v", err)
	}
}
