package rollback

import (
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func (d *Deployment) name(track string) string { return d.opts.App + "-" + track }

// selector matches the app's pods of one track, or of every track when track is "".
func (d *Deployment) selector(track string) string {
	if track == "" {
		return "app=" + d.opts.App
	}
	return "app=" + d.opts.App + ",track=" + track
}

// ConfigMapName is the app's configuration ConfigMap: every pod reads it
// with envFrom when it starts, so a change reaches pods on their next start,
// as config drift does in production.
func ConfigMapName(app string) string { return app + "-config" }

func (d *Deployment) configMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName(d.opts.App)},
		Data:       map[string]string{"ERROR_RATIO": "0"},
	}
}

func (d *Deployment) service() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: d.opts.App},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{"app": d.opts.App},
			Ports: []corev1.ServicePort{{
				Name: "http", Port: 80, TargetPort: d.targetPort(), NodePort: d.opts.NodePort,
			}},
		},
	}
}

func (d *Deployment) targetPort() intstr.IntOrString {
	if d.opts.TargetPort != "" {
		return intstr.FromString(d.opts.TargetPort)
	}
	return intstr.FromInt32(appPort)
}

func (d *Deployment) deployment(track string, v Version) (*appsv1.Deployment, error) {
	labels := map[string]string{"app": d.opts.App, "track": track}
	podLabels := maps.Clone(labels)
	podLabels["version"] = v.Name
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: d.name(track), Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(v.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec:       d.podSpec(v),
			},
		},
	}
	if d.opts.Template != nil {
		if err := d.opts.Template(track, &dep.Spec.Template); err != nil {
			return nil, fmt.Errorf("%s pod template: %w", track, err)
		}
	}
	return dep, nil
}

func (d *Deployment) podSpec(v Version) corev1.PodSpec {
	env := []corev1.EnvVar{{Name: "VERSION", Value: v.Name}}
	for _, k := range slices.Sorted(maps.Keys(v.Env)) {
		env = append(env, corev1.EnvVar{Name: k, Value: v.Env[k]})
	}
	return corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To[int64](30),
		SecurityContext:               &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
		Containers: []corev1.Container{{
			Name:            "app",
			Image:           d.opts.Image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Env:             env,
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(d.opts.App)},
				Optional:             ptr.To(true),
			}}},
			Ports: []corev1.ContainerPort{
				{Name: "http", ContainerPort: appPort},
				{Name: "admin", ContainerPort: adminPort},
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(appPort)}},
				PeriodSeconds:    1,
				FailureThreshold: 1,
			},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("10m"),
				corev1.ResourceMemory: resource.MustParse("16Mi"),
			}},
		}},
	}
}
