package rollback

import (
	"context"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// App names the user Service and prefixes every object a machinery makes.
const App = "app"

// Labels every machinery puts on the app's pods: LabelApp for all of them,
// LabelVersion with the version's name.
const (
	LabelApp     = "app"
	LabelVersion = "version"
)

// ConfigMapName is the app's configuration ConfigMap: every pod reads it
// with envFrom when it starts, so a change reaches pods on their next start,
// as config drift does in production.
func ConfigMapName(app string) string { return app + "-config" }

// workload is the sample app as every machinery deploys it: one ConfigMap,
// Services, and pod templates built from a Version. It is the one place a
// machinery learns what the app's pods look like, so another workload can
// replace it without touching a machinery's rollback logic.
type workload struct {
	env Env
}

func (w workload) logf(machinery, format string, args ...any) {
	if w.env.Log != nil {
		fmt.Fprintf(w.env.Log, machinery+" machinery: "+format+"\n", args...)
	}
}

func (w workload) image(v Version) string {
	if v.Image != "" {
		return v.Image
	}
	return w.env.Image
}

// versionLabels are the labels of one version's pods.
func versionLabels(version string) map[string]string {
	return map[string]string{LabelApp: App, LabelVersion: version}
}

// appLabels are the labels of the app's pods that carry key=value.
func appLabels(key, value string) map[string]string {
	return map[string]string{LabelApp: App, key: value}
}

// ownName names the Deployment that runs the pods labelled with value alone.
func ownName(value string) string { return App + "-" + value }

// ownDeployment places a version on the pods labelled key=value, run by a
// Deployment of their own.
func ownDeployment(key, value string) Where { return where(appLabels(key, value), ownName(value)) }

// placement is where the workload's two versions run.
func placement(stable, canary Where) Placement {
	return Placement{Stable: stable, Canary: canary, All: LabelApp + "=" + App, ConfigMap: ConfigMapName(App)}
}

// where describes the pods carrying labels, run by deployment ("" if shared).
func where(labels map[string]string, deployment string) Where {
	return Where{Selector: metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels}), Labels: labels, Deployment: deployment}
}

func (w workload) configMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName(App)},
		Data:       map[string]string{appcontract.EnvErrorRatio: "0"},
	}
}

// setUp creates the app's ConfigMap and the user Service over selector.
func (w workload) setUp(ctx context.Context, selector map[string]string) error {
	client, ns := w.env.Client, w.env.Namespace
	if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, w.configMap(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create config map: %w", err)
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, w.userService(selector), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	return nil
}

// userService is the Service users reach, published on the NodePort.
func (w workload) userService(selector map[string]string) *corev1.Service {
	svc := w.service(App, selector)
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Spec.Ports[0].NodePort = w.env.NodePort
	return svc
}

// service is a ClusterIP Service to the app's user port on the pods selected.
func (w workload) service(name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: maps.Clone(selector),
			Ports:    []corev1.ServicePort{{Name: appcontract.UserPortName, Port: 80, TargetPort: w.targetPort()}},
		},
	}
}

func (w workload) targetPort() intstr.IntOrString {
	if w.env.Pods != nil && w.env.Pods.TargetPort != "" {
		return intstr.FromString(w.env.Pods.TargetPort)
	}
	return intstr.FromInt32(appcontract.UserPort)
}

// deployment runs version v on pods labelled podLabels, selected by selector.
func (w workload) deployment(name string, selector map[string]string, v Version, canary bool) (*appsv1.Deployment, error) {
	tmpl, err := w.template(v, selector, canary)
	if err != nil {
		return nil, err
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: maps.Clone(selector)},
		Spec: appsv1.DeploymentSpec{
			Replicas:                ptr.To(v.Replicas),
			Selector:                &metav1.LabelSelector{MatchLabels: maps.Clone(selector)},
			Template:                tmpl,
			ProgressDeadlineSeconds: ptr.To(int32(w.env.ProgressDeadline.Seconds())),
		},
	}, nil
}

// template is the pod template of version v; extra labels are added to the
// version's own.
func (w workload) template(v Version, extra map[string]string, canary bool) (corev1.PodTemplateSpec, error) {
	labels := versionLabels(v.Name)
	maps.Copy(labels, extra)
	labels[LabelVersion] = v.Name
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: w.podSpec(v)}
	if w.env.Pods != nil && w.env.Pods.Apply != nil {
		if err := w.env.Pods.Apply(canary, &tmpl); err != nil {
			return tmpl, fmt.Errorf("pod template of %s: %w", v.Name, err)
		}
	}
	return tmpl, nil
}

func (w workload) podSpec(v Version) corev1.PodSpec {
	env := []corev1.EnvVar{{Name: appcontract.EnvVersion, Value: v.Name}}
	for _, k := range slices.Sorted(maps.Keys(v.Env)) {
		env = append(env, corev1.EnvVar{Name: k, Value: v.Env[k]})
	}
	return corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To(int64(appcontract.DrainGrace.Seconds())),
		SecurityContext:               &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
		Containers: []corev1.Container{{
			Name:            appcontract.Container,
			Image:           w.image(v),
			ImagePullPolicy: corev1.PullIfNotPresent,
			Env:             env,
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(App)},
				Optional:             ptr.To(true),
			}}},
			Ports: []corev1.ContainerPort{
				{Name: appcontract.UserPortName, ContainerPort: appcontract.UserPort},
				{Name: appcontract.AdminPortName, ContainerPort: appcontract.AdminPort},
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: appcontract.PathReady, Port: intstr.FromInt32(appcontract.UserPort)}},
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

// rolledOut holds when a Deployment's rollout is complete and observed: the
// controller saw the latest spec, and every replica is updated, ready and
// available, with no old replica left.
func rolledOut(dep *appsv1.Deployment) bool {
	want := ptr.Deref(dep.Spec.Replicas, 1)
	st := dep.Status
	return st.ObservedGeneration >= dep.Generation && st.UpdatedReplicas == want &&
		st.ReadyReplicas == want && st.AvailableReplicas == want && st.Replicas == want
}

// objects are the workload's own objects every machinery creates: the
// configuration and the user Service.
func (w workload) objects() []string {
	port := "a free published NodePort"
	if w.env.NodePort != 0 {
		port = fmt.Sprintf("NodePort %d", w.env.NodePort)
	}
	return []string{"ConfigMap " + ConfigMapName(App), fmt.Sprintf("Service %s (%s, the user path)", App, port)}
}

// replicasOf says what a workload object runs.
func replicasOf(v Version) string { return fmt.Sprintf("%d × %s", v.Replicas, v.Name) }
