package rollback

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// PrometheusRef is where a Prometheus server answers inside the cluster.
type PrometheusRef struct {
	Namespace, Service string
	Port               int32
}

// DefaultPrometheus is the server PrometheusInstall installs.
var DefaultPrometheus = PrometheusRef{Namespace: "firedrill-prometheus", Service: "prometheus", Port: 9090}

// URL is the server's in-cluster address, as an analysis names it; "" when
// no server is set.
func (p PrometheusRef) URL() string {
	if p.Service == "" {
		return ""
	}
	return fmt.Sprintf("http://%s.%s.svc:%d", p.Service, p.Namespace, p.Port)
}

// Query runs an instant query through the API server's Service proxy, so
// the harness needs no route into the cluster, and returns the raw vector
// or the server's one-line error (a PromQL parse error names the position).
func (p PrometheusRef) Query(ctx context.Context, client kubernetes.Interface, query string) ([]PromSample, error) {
	raw, err := client.CoreV1().Services(p.Namespace).ProxyGet("http", p.Service, strconv.Itoa(int(p.Port)), "/api/v1/query",
		map[string]string{"query": query}).DoRaw(ctx)
	var answer struct {
		Status, Error string
		Data          struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		}
	}
	if jerr := json.Unmarshal(raw, &answer); jerr != nil || answer.Status == "" {
		if err != nil {
			return nil, fmt.Errorf("query Prometheus %s: %s", p.URL(), oneLine(err))
		}
		return nil, fmt.Errorf("query Prometheus %s: answer is not the query API's: %.80q", p.URL(), raw)
	}
	if answer.Status != "success" {
		return nil, fmt.Errorf("%s", answer.Error)
	}
	var out []PromSample
	if answer.Data.ResultType == "vector" {
		_ = json.Unmarshal(answer.Data.Result, &out)
	}
	return out, nil
}

// PromSample is one sample of an instant vector.
type PromSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// PrometheusInstall installs a Prometheus server that scrapes the sample
// app's /metrics in drill namespaces every second.
type PrometheusInstall struct {
	Image   string
	Client  kubernetes.Interface
	Applier *kube.Applier
	Log     io.Writer
}

// prometheusConfig scrapes every pod of the app (label app=app) in a drill
// namespace on its user port, where the sample app serves /metrics; the
// namespace and pod become labels. Nothing outside drill namespaces is
// scraped.
func prometheusConfig() string {
	return fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
- job_name: drill-apps
  kubernetes_sd_configs:
  - role: pod
  relabel_configs:
  - source_labels: [__meta_kubernetes_namespace]
    regex: '%s.+'
    action: keep
  - source_labels: [__meta_kubernetes_pod_label_%s]
    regex: '%s'
    action: keep
  - source_labels: [__meta_kubernetes_pod_container_port_name]
    regex: '%s'
    action: keep
  - source_labels: [__meta_kubernetes_namespace]
    target_label: namespace
  - source_labels: [__meta_kubernetes_pod_name]
    target_label: pod
`, appcontract.NamespacePrefix, LabelApp, App, appcontract.UserPortName)
}

// objects are the install, in apply order.
func (in PrometheusInstall) objects() []runtime.Object {
	ref := DefaultPrometheus
	name, ns := ref.Service, ref.Namespace
	labels := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "firedrill"}
	meta := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Namespace: ns, Labels: labels} }
	cluster := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Labels: labels} }
	port := intstr.FromInt32(ref.Port)
	return []runtime.Object{
		&corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: cluster(ns)},
		&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: meta(name)},
		&rbacv1.ClusterRole{TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"), ObjectMeta: cluster(ns),
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}}},
		&rbacv1.ClusterRoleBinding{TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ObjectMeta: cluster(ns),
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ns},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}},
		&corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: meta(name), Data: map[string]string{"prometheus.yml": prometheusConfig()}},
		&appsv1.Deployment{TypeMeta: typeMeta("apps/v1", "Deployment"), ObjectMeta: meta(name), Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				ServiceAccountName: name,
				SecurityContext:    &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), FSGroup: ptr.To[int64](65534)},
				Containers: []corev1.Container{{
					Name: name, Image: in.Image, ImagePullPolicy: corev1.PullIfNotPresent,
					Args: []string{"--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
						"--storage.tsdb.retention.time=6h", fmt.Sprintf("--web.listen-address=:%d", ref.Port),
						// A new canary pod is scraped sooner: the scrape
						// manager takes new targets every second, not 5 s.
						"--scrape.discovery-reload-interval=1s"},
					Ports:          []corev1.ContainerPort{{Name: "web", ContainerPort: ref.Port}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/-/ready", Port: port}}, PeriodSeconds: 1},
					VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/prometheus"}, {Name: "data", MountPath: "/prometheus"}},
				}},
				Volumes: []corev1.Volume{
					{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
					{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				},
			}},
		}},
		&corev1.Service{TypeMeta: typeMeta("v1", "Service"), ObjectMeta: meta(name), Spec: corev1.ServiceSpec{
			Selector: labels, Ports: []corev1.ServicePort{{Name: "web", Port: ref.Port, TargetPort: port}}}},
	}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// Run applies the install and waits until the server is Ready and answers
// a query. It is idempotent.
func (in PrometheusInstall) Run(ctx context.Context) error {
	start := time.Now()
	for _, obj := range in.objects() {
		if err := in.Applier.ApplyObject(ctx, obj); err != nil {
			return fmt.Errorf("install prometheus: %w", err)
		}
	}
	ref := DefaultPrometheus
	if err := waitAvailable(ctx, in.Client, ref.Namespace, ref.Service); err != nil {
		return fmt.Errorf("install prometheus: %w", err)
	}
	if _, err := ref.Query(ctx, in.Client, "up"); err != nil {
		return fmt.Errorf("install prometheus: first query: %w", err)
	}
	logf(in.Log, "prometheus", "ready at %s in %s", ref.URL(), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// Uninstall deletes what Run applied, the namespace last.
func (in PrometheusInstall) Uninstall(ctx context.Context) error {
	objs := in.objects()
	for i := len(objs) - 1; i >= 0; i-- {
		if err := in.Applier.DeleteObject(ctx, objs[i]); err != nil {
			return fmt.Errorf("uninstall prometheus: %w", err)
		}
	}
	return nil
}

// logf writes one progress line for a backend install, when w is set.
func logf(w io.Writer, who, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, who+": "+format+"\n", args...)
	}
}

// waitAvailable waits until a Deployment has rolled out and all its
// replicas are available.
func waitAvailable(ctx context.Context, client kubernetes.Interface, ns, name string) error {
	_, err := kube.WaitDeployment(ctx, client, ns, name, func(d *appsv1.Deployment) (bool, error) {
		return rolledOut(d), nil
	})
	return err
}
