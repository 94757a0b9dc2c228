package toxiproxy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const testImage = "firedrill/toxiproxy:test"

// appTemplate is the app's pod template as rollback builds it: container
// "app" with ports http:8080 and admin:9090, readiness on 8080.
func appTemplate() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name:  "app",
		Image: "firedrill/sampleapp:test",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "admin", ContainerPort: 9090}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(8080)},
		}},
	}}}}
}

// userPorts lists every port named "user" in the pod as container:port.
func userPorts(spec *corev1.PodSpec) []string {
	var found []string
	for _, c := range append(slices.Clone(spec.Containers), spec.InitContainers...) {
		for _, p := range c.Ports {
			if p.Name == PortNameUser {
				found = append(found, fmt.Sprintf("%s:%d", c.Name, p.ContainerPort))
			}
		}
	}
	return found
}

func TestWithSidecar(t *testing.T) {
	tmpl := appTemplate()
	app := *tmpl.Spec.Containers[0].DeepCopy()
	if err := WithSidecar(tmpl, testImage); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(app, tmpl.Spec.Containers[0]) {
		t.Errorf("app container changed: %+v, want %+v", tmpl.Spec.Containers[0], app)
	}
	if got, want := userPorts(&tmpl.Spec), []string{"toxiproxy:8081"}; !slices.Equal(got, want) {
		t.Errorf("ports named user: %v, want %v", got, want)
	}
	if len(tmpl.Spec.InitContainers) != 1 {
		t.Fatalf("init containers: %d, want the sidecar only", len(tmpl.Spec.InitContainers))
	}
	sc := tmpl.Spec.InitContainers[0]
	if sc.RestartPolicy == nil || *sc.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("sidecar restart policy %v: want Always (a native sidecar)", sc.RestartPolicy)
	}
	if sc.Image != testImage {
		t.Errorf("sidecar image %q, want %q", sc.Image, testImage)
	}
	wantArgs := []string{"-host", "0.0.0.0", "-port", "8474", "-config", "/etc/toxiproxy/proxies.json"}
	if !slices.Equal(sc.Args, wantArgs) {
		t.Errorf("sidecar args %q, want %q", sc.Args, wantArgs)
	}
	if p := sc.ReadinessProbe; p == nil || p.TCPSocket == nil || p.TCPSocket.Port.IntValue() != PortListen {
		t.Errorf("sidecar readiness %+v: want a TCP connect to %d", p, PortListen)
	}
	if len(sc.VolumeMounts) != 1 || sc.VolumeMounts[0].MountPath != "/etc/toxiproxy" {
		t.Errorf("sidecar mounts %+v: want the config volume at /etc/toxiproxy", sc.VolumeMounts)
	}

	if len(tmpl.Spec.Volumes) != 1 {
		t.Fatalf("volumes: %+v, want the config volume only", tmpl.Spec.Volumes)
	}
	items := tmpl.Spec.Volumes[0].DownwardAPI.Items
	wantField := "metadata.annotations['firedrill.dev/toxiproxy-config']"
	if len(items) != 1 || items[0].Path != "proxies.json" || items[0].FieldRef.FieldPath != wantField {
		t.Errorf("config volume items %+v: want proxies.json from %s", items, wantField)
	}
	var proxies []proxy
	if err := json.Unmarshal([]byte(tmpl.Annotations[ConfigAnnotation]), &proxies); err != nil {
		t.Fatalf("config annotation: %v", err)
	}
	want := []proxy{{Name: "app", Listen: "0.0.0.0:8081", Upstream: "127.0.0.1:8080", Enabled: true}}
	if !slices.Equal(proxies, want) {
		t.Errorf("proxies %+v, want %+v", proxies, want)
	}
}

func TestWithSidecarTwiceReplaces(t *testing.T) {
	tmpl := appTemplate()
	if err := WithSidecar(tmpl, testImage); err != nil {
		t.Fatal(err)
	}
	if err := WithSidecar(tmpl, testImage+"2"); err != nil {
		t.Fatal(err)
	}
	if n, v := len(tmpl.Spec.InitContainers), len(tmpl.Spec.Volumes); n != 1 || v != 1 {
		t.Fatalf("%d sidecar(s) and %d volume(s): want one of each", n, v)
	}
	if got := tmpl.Spec.InitContainers[0].Image; got != testImage+"2" {
		t.Errorf("sidecar image %q, want the second one", got)
	}
}

func TestWithoutSidecar(t *testing.T) {
	tmpl := appTemplate()
	for range 2 { // idempotent
		if err := WithoutSidecar(tmpl); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := userPorts(&tmpl.Spec), []string{"app:8080"}; !slices.Equal(got, want) {
		t.Errorf("ports named user: %v, want %v", got, want)
	}
	if len(tmpl.Spec.InitContainers)+len(tmpl.Spec.Volumes)+len(tmpl.Annotations) != 0 {
		t.Errorf("WithoutSidecar added more than a port name: %+v", tmpl)
	}
}

func TestSidecarHelpersRefuse(t *testing.T) {
	noAppPort := func() *corev1.PodTemplateSpec {
		tmpl := appTemplate()
		tmpl.Spec.Containers[0].Ports = tmpl.Spec.Containers[0].Ports[1:]
		return tmpl
	}
	userTaken := func() *corev1.PodTemplateSpec {
		tmpl := appTemplate()
		tmpl.Spec.Containers[0].Ports[1].Name = PortNameUser
		return tmpl
	}
	withSidecar := func() *corev1.PodTemplateSpec {
		tmpl := appTemplate()
		if err := WithSidecar(tmpl, testImage); err != nil {
			t.Fatal(err)
		}
		return tmpl
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"sidecar without image", func() error { return WithSidecar(appTemplate(), "") }, "image is empty"},
		{"sidecar without app port", func() error { return WithSidecar(noAppPort(), testImage) }, "no container declares port 8080"},
		{"sidecar with user port taken", func() error { return WithSidecar(userTaken(), testImage) }, `container "app" already has a port named "user"`},
		{"no sidecar without app port", func() error { return WithoutSidecar(noAppPort()) }, "no container declares port 8080"},
		{"no sidecar with user port taken", func() error { return WithoutSidecar(userTaken()) }, `already has a port named "user"`},
		{"no sidecar on a sidecar pod", func() error { return WithoutSidecar(withSidecar()) }, "already has the sidecar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v: want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestWithSidecarRefusedLeavesTemplate(t *testing.T) {
	tmpl := appTemplate()
	if err := WithoutSidecar(tmpl); err != nil {
		t.Fatal(err)
	}
	before := tmpl.DeepCopy()
	if err := WithSidecar(tmpl, testImage); err == nil {
		t.Fatal("WithSidecar on a pod whose app port is named user: want an error")
	}
	if !reflect.DeepEqual(before, tmpl) {
		t.Errorf("refused WithSidecar changed the template: %+v", tmpl)
	}
}
