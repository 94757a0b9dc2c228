package toxiproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Ports and names of the sidecar. The Service's targetPort is the named port
// PortNameUser, which resolves per pod: to the proxy on pods with the
// sidecar and to the app on pods without it.
const (
	// PortListen is where the proxy accepts user traffic.
	PortListen = 8081
	// PortUpstream is the app's port; the proxy forwards to it on 127.0.0.1.
	PortUpstream = appcontract.UserPort
	// PortAPI is the Toxiproxy HTTP API, reached through the API server's
	// pod proxy.
	PortAPI = 8474
	// PortNameUser names the port user traffic enters a pod by.
	PortNameUser = "user"
	// PortNameAPI names the API port on the sidecar.
	PortNameAPI = "toxiproxy-api"
)

// Names the sidecar puts into a pod.
const (
	// ContainerName is the sidecar container.
	ContainerName = "toxiproxy"
	// ProxyName is the one proxy the sidecar runs, app → 127.0.0.1:8080.
	ProxyName = "app"
	// ConfigAnnotation holds the proxy definitions (Toxiproxy's -config
	// JSON) on the pod; a downward API volume hands it to the sidecar.
	ConfigAnnotation = "firedrill.dev/toxiproxy-config"

	configVolume = "toxiproxy-config"
	configDir    = "/etc/toxiproxy"
	configFile   = "proxies.json"
)

// proxy is a Toxiproxy proxy definition as its -config file and API take it.
type proxy struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  bool   `json:"enabled"`
}

// ProxyConfig is the sidecar's -config file: the proxy "app" listening on
// PortListen and forwarding to the app on PortUpstream in the same pod.
func ProxyConfig() string {
	raw, err := json.Marshal([]proxy{{
		Name:     ProxyName,
		Listen:   "0.0.0.0:" + strconv.Itoa(PortListen),
		Upstream: "127.0.0.1:" + strconv.Itoa(PortUpstream),
		Enabled:  true,
	}})
	if err != nil {
		panic(err) // a fixed struct of strings always marshals
	}
	return string(raw)
}

// Sidecar is the Toxiproxy container. It is a native sidecar (an init
// container that restarts always), for two reasons that matter to a drill:
// the kubelet starts it before the app, and on termination stops it only
// after the app has exited, so the proxy never cuts connections the app is
// still draining; a plain container would get SIGTERM with the app and exit
// at once, adding resets the rollback did not cause.
//
// Its readiness is a TCP connect to the proxy port: the pod is Ready only
// once the proxy listens, and no toxic affects a bare connect, so a fault
// never takes the pod out of the Service by itself; reacting is left to the
// rollback machinery under test.
func Sidecar(image string) corev1.Container {
	return corev1.Container{
		Name:            ContainerName,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		RestartPolicy:   ptr.To(corev1.ContainerRestartPolicyAlways),
		Args: []string{
			"-host", "0.0.0.0",
			"-port", strconv.Itoa(PortAPI),
			"-config", configDir + "/" + configFile,
		},
		// Info drops Toxiproxy's per-request API traces but keeps one line
		// per accepted connection.
		Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}},
		Ports: []corev1.ContainerPort{
			{Name: PortNameUser, ContainerPort: PortListen, Protocol: corev1.ProtocolTCP},
			{Name: PortNameAPI, ContainerPort: PortAPI, Protocol: corev1.ProtocolTCP},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(PortListen)}},
			PeriodSeconds:    1,
			FailureThreshold: 1,
		},
		VolumeMounts: []corev1.VolumeMount{{Name: configVolume, MountPath: configDir, ReadOnly: true}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("10m"),
			corev1.ResourceMemory: resource.MustParse("16Mi"),
		}},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

// configVolumeSource projects ConfigAnnotation into the file the sidecar's
// -config reads. The pod carries its own proxy definition, so no ConfigMap
// has to exist before the pods, and the proxy exists before the API listens.
func configVolumeSource() corev1.Volume {
	return corev1.Volume{
		Name: configVolume,
		VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{{
				Path:     configFile,
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + ConfigAnnotation + "']"},
			}},
		}},
	}
}

// WithSidecar puts the Toxiproxy sidecar in front of the app's port 8080 in
// a pod template: the sidecar's port 8081 takes the name PortNameUser, the
// proxy definition goes into ConfigAnnotation and a downward API volume. The
// app container and its readiness probe are left as they are. Calling it
// again replaces the sidecar, e.g. with another image.
func WithSidecar(tmpl *corev1.PodTemplateSpec, image string) error {
	if image == "" {
		return errors.New("toxiproxy sidecar: image is empty")
	}
	out := tmpl.DeepCopy()
	spec := &out.Spec
	spec.InitContainers = slices.DeleteFunc(spec.InitContainers, func(c corev1.Container) bool { return c.Name == ContainerName })
	spec.Volumes = slices.DeleteFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == configVolume })
	if _, _, err := appPort(spec); err != nil {
		return err
	}
	if err := userPortTaken(spec, -1, -1); err != nil {
		return err
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[ConfigAnnotation] = ProxyConfig()
	spec.InitContainers = append(spec.InitContainers, Sidecar(image))
	spec.Volumes = append(spec.Volumes, configVolumeSource())
	*tmpl = *out
	return nil
}

// WithoutSidecar names the app's port 8080 PortNameUser, so that pods
// without the sidecar take user traffic directly under the same Service.
func WithoutSidecar(tmpl *corev1.PodTemplateSpec) error {
	if HasSidecar(&tmpl.Spec) {
		return errors.New("toxiproxy sidecar: pod template already has the sidecar")
	}
	c, p, err := appPort(&tmpl.Spec)
	if err != nil {
		return err
	}
	if err := userPortTaken(&tmpl.Spec, c, p); err != nil {
		return err
	}
	tmpl.Spec.Containers[c].Ports[p].Name = PortNameUser
	return nil
}

// HasSidecar reports whether a pod runs the Toxiproxy sidecar.
func HasSidecar(spec *corev1.PodSpec) bool {
	return slices.ContainsFunc(spec.InitContainers, func(c corev1.Container) bool { return c.Name == ContainerName })
}

// appPort finds the container port PortUpstream: container and port index.
func appPort(spec *corev1.PodSpec) (int, int, error) {
	for i, c := range spec.Containers {
		for j, p := range c.Ports {
			if p.ContainerPort == PortUpstream {
				return i, j, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("toxiproxy sidecar: no container declares port %d", PortUpstream)
}

// userPortTaken refuses a port named PortNameUser anywhere in the pod other
// than port p of container c: the Service would resolve it ambiguously.
func userPortTaken(spec *corev1.PodSpec, c, p int) error {
	for i, ctr := range append(slices.Clone(spec.Containers), spec.InitContainers...) {
		for j, port := range ctr.Ports {
			if port.Name == PortNameUser && (i != c || j != p) {
				return fmt.Errorf("toxiproxy sidecar: container %q already has a port named %q", ctr.Name, PortNameUser)
			}
		}
	}
	return nil
}
