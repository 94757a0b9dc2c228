package rollback

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// The flag server's objects in the drill namespace.
const (
	flagServerName = "flag-server"
	// flagsConfigMap holds the flag configuration, which the relay proxy
	// reads through the API (never a volume, which the kubelet syncs only
	// every minute or so).
	flagsConfigMap = "flags"
	flagsKey       = "flags.goff.yaml"
	// flagServerPort is the relay proxy's listen port.
	flagServerPort = 1031
	// flagServerConfigDir is where the relay proxy looks for its own
	// configuration, goff-proxy.yaml.
	flagServerConfigDir = "/etc/opt/goff"
	// flagServerPollMillis is the relay proxy's retriever polling, the
	// shortest GO Feature Flag allows. Its admin refresh endpoint would be
	// quicker, but it takes its key only in the Authorization header, which
	// the API server's service proxy does not pass on.
	flagServerPollMillis = 1000
)

// flagServer is the GO Feature Flag relay proxy of one drill: its
// configuration, its RBAC to read the flags ConfigMap, its Deployment and
// Service. The harness writes the flags ConfigMap; the proxy reads it
// through the API within a second, or, with volume, from the ConfigMap
// mounted as a file, which the kubelet rewrites only when it next syncs
// the pod.
type flagServer struct {
	env    Env
	volume bool
}

// flagsMount is where the volume source mounts the flags ConfigMap.
const flagsMount = "/flags"

// retriever is the relay proxy's configuration of its flag source.
func (s flagServer) retriever() []string {
	if s.volume {
		return []string{"retriever:", "  kind: file", "  path: " + flagsMount + "/" + flagsKey}
	}
	return []string{"retriever:", "  kind: configmap", "  namespace: " + s.env.Namespace, "  configmap: " + flagsConfigMap, "  key: " + flagsKey}
}

// proxyConfig is the relay proxy's own configuration.
func (s flagServer) proxyConfig() string {
	return strings.Join([]string{
		"listen: " + strconv.Itoa(flagServerPort),
		"pollingInterval: " + strconv.Itoa(flagServerPollMillis),
		"hideBanner: true",
		"logLevel: info",
	}, "\n") + "\n" + strings.Join(s.retriever(), "\n") + "\n"
}

func flagServerLabels() map[string]string { return map[string]string{LabelApp: flagServerName} }

// create makes the flag server with flags as its first configuration,
// waits until it serves, and returns the URL the app reaches it at (the
// Service's cluster IP: the drill does not depend on cluster DNS).
func (s flagServer) create(ctx context.Context, flags string) (string, error) {
	client, ns := s.env.Client, s.env.Namespace
	for _, obj := range s.objects(flags) {
		if err := createObject(ctx, client, ns, obj); err != nil {
			return "", fmt.Errorf("flag server: %w", err)
		}
	}
	svc, err := client.CoreV1().Services(ns).Get(ctx, flagServerName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("flag server: read service: %w", err)
	}
	if err := s.awaitServing(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("http://%s:%d", svc.Spec.ClusterIP, flagServerPort), nil
}

// objects are the flag server's objects, in creation order.
func (s flagServer) objects(flags string) []any {
	labels := flagServerLabels()
	return []any{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: flagsConfigMap}, Data: map[string]string{flagsKey: flags}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: flagServerName}, Data: map[string]string{"goff-proxy.yaml": s.proxyConfig()}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: flagServerName}},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: flagServerName},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
				ResourceNames: []string{flagsConfigMap}, Verbs: []string{"get"}}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: flagServerName},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: flagServerName},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: flagServerName, Namespace: s.env.Namespace}},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: flagServerName},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{
				Name: "http", Port: flagServerPort, TargetPort: intstr.FromInt32(flagServerPort)}}},
		},
		s.deployment(),
	}
}

// createObject creates one of the flag server's objects in ns.
func createObject(ctx context.Context, client kubernetes.Interface, ns string, obj any) error {
	var err error
	opts := metav1.CreateOptions{}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		_, err = client.CoreV1().ConfigMaps(ns).Create(ctx, o, opts)
	case *corev1.ServiceAccount:
		_, err = client.CoreV1().ServiceAccounts(ns).Create(ctx, o, opts)
	case *corev1.Service:
		_, err = client.CoreV1().Services(ns).Create(ctx, o, opts)
	case *rbacv1.Role:
		_, err = client.RbacV1().Roles(ns).Create(ctx, o, opts)
	case *rbacv1.RoleBinding:
		_, err = client.RbacV1().RoleBindings(ns).Create(ctx, o, opts)
	case *appsv1.Deployment:
		_, err = client.AppsV1().Deployments(ns).Create(ctx, o, opts)
	default:
		return fmt.Errorf("create %T: not a flag server object", obj)
	}
	if err != nil {
		return fmt.Errorf("create %T: %w", obj, err)
	}
	return nil
}

// describe names the flag server's objects, for plans.
func (s flagServer) describe() []string {
	source := "read through the API"
	if s.volume {
		source = "mounted as a volume at " + flagsMount
	}
	return []string{
		"ConfigMap " + flagsConfigMap + " (the flag configuration, " + source + ")", "ConfigMap " + flagServerName + " (the relay proxy's)",
		"ServiceAccount, Role (get ConfigMap " + flagsConfigMap + ") and RoleBinding " + flagServerName,
		"Service " + flagServerName, "Deployment " + flagServerName + " (1 × GO Feature Flag relay proxy)",
	}
}

func (s flagServer) deployment() *appsv1.Deployment {
	dep := s.baseDeployment()
	if s.volume {
		// Any change of the pod's readiness makes the kubelet sync the
		// pod, and so rewrite the mounted flags early: a loaded host's
		// probe timeouts gave one CI run a 14 s kill switch. A tolerant
		// probe leaves the rewrite to the kubelet's periodic sync, which
		// is what this drill measures.
		dep.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
			ProbeHandler:  dep.Spec.Template.Spec.Containers[0].ReadinessProbe.ProbeHandler,
			PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 6,
		}
		spec := &dep.Spec.Template.Spec
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "flags", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: flagsConfigMap}}}})
		c := &spec.Containers[0]
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "flags", MountPath: flagsMount, ReadOnly: true})
	}
	return dep
}

func (s flagServer) baseDeployment() *appsv1.Deployment {
	labels := flagServerLabels()
	probe := &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(flagServerPort)}},
		PeriodSeconds: 1,
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: flagServerName, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: flagServerReplicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: flagServerName,
					SecurityContext:    &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
					Containers: []corev1.Container{{
						Name: flagServerName, Image: s.env.FlagServerImage, ImagePullPolicy: corev1.PullIfNotPresent,
						Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: flagServerPort}},
						ReadinessProbe: probe,
						VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: flagServerConfigDir, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: flagServerName}}}}},
				},
			},
		},
	}
}

// flagServerTimeout bounds one call to the relay proxy.
const flagServerTimeout = 5 * time.Second

// get reads one path of the relay proxy through the API server's service
// proxy and returns the answer's body.
func (s flagServer) get(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, flagServerTimeout)
	defer cancel()
	body, err := s.env.Client.CoreV1().RESTClient().Get().Namespace(s.env.Namespace).
		Resource("services").Name(flagServerName + ":" + strconv.Itoa(flagServerPort)).SubResource("proxy").
		Suffix(strings.Split(strings.Trim(path, "/"), "/")...).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("flag server GET %s: %w", path, err)
	}
	return body, nil
}

// awaitServing waits until the relay proxy answers its change hash, which
// it does once it has read the flags.
func (s flagServer) awaitServing(ctx context.Context) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, last = s.changeHash(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("flag server never served its flags: %w (last: %v)", err, last)
	}
	return nil
}

// changeHash is the relay proxy's hash of its flag configuration
// (GET /v1/flag/change), the one the app's provider polls.
func (s flagServer) changeHash(ctx context.Context) (uint64, error) {
	body, err := s.get(ctx, "/v1/flag/change")
	if err != nil {
		return 0, err
	}
	var v struct {
		Hash uint64 `json:"hash"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("flag server: change hash %q: %w", body, err)
	}
	return v.Hash, nil
}

// flagAck is a flag write the server acknowledged.
type flagAck struct {
	Written, At   time.Time
	Before, After uint64
	Flags         string
}

func (a flagAck) evidence(volume bool) []Evidence {
	var why []Evidence
	if volume {
		why = []Evidence{{Name: "why the flag was slow", Value: fmt.Sprintf(
			"the flag server reads ConfigMap %s as a file mounted at %s, which the kubelet rewrites only when it next syncs the pod (its sync period, 1 min by default, plus its ConfigMap cache): the server saw the write %.1f s after it; a source read through the API takes under 1 s",
			flagsConfigMap, flagsMount, a.At.Sub(a.Written).Seconds())}}
	}
	return append(why, []Evidence{
		{Name: "flag write", Value: fmt.Sprintf("ConfigMap %s/%s written at %s", flagsConfigMap, flagsKey, a.Written.Format(time.StampMilli))},
		{Name: "flag server acknowledged", Value: fmt.Sprintf("change hash %d → %d seen by the harness at %s, %.3f s after the write (decided is that or the first pod's sighting, whichever came first)",
			a.Before, a.After, a.At.Format(time.StampMilli), a.At.Sub(a.Written).Seconds())},
	}...)
}

// write stores flags in the ConfigMap and returns once the relay proxy's
// change hash moved: the flag write acknowledged, the server serving it.
func (s flagServer) write(ctx context.Context, flags string) (flagAck, error) {
	before, err := s.changeHash(ctx)
	if err != nil {
		return flagAck{}, err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: flagsConfigMap}, Data: map[string]string{flagsKey: flags}}
	if _, err := s.env.Client.CoreV1().ConfigMaps(s.env.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return flagAck{}, fmt.Errorf("write flags: %w", err)
	}
	ack := flagAck{Written: time.Now(), Before: before, Flags: flags}
	// Each poll crosses the API server's service proxy: 20 a second keeps
	// the mark within 50 ms without loading a 2-core cluster that runs
	// other drills.
	every := 50 * time.Millisecond
	if s.volume {
		// The kubelet's sync takes a minute or so: no need to ask 50 times a second.
		every = 250 * time.Millisecond
		workload{env: s.env}.logf(FeatureFlag, "flags written; a volume source waits for the kubelet to sync the pod (often 60 to 90 s)")
	}
	err = wait.PollUntilContextCancel(ctx, every, true, func(ctx context.Context) (bool, error) {
		h, err := s.changeHash(ctx)
		if err != nil {
			return false, err
		}
		ack.After, ack.At = h, time.Now()
		return h != before, nil
	})
	if err != nil {
		return ack, fmt.Errorf("flag server never acknowledged the write: %w", err)
	}
	return ack, nil
}

// flagsView is the part of the app's GET /admin/flags answer the drill
// reads: the provider events the pod saw.
type flagsView struct {
	Events []flagEvent `json:"events"`
}

type flagEvent struct {
	At    time.Time `json:"at"`
	Event string    `json:"event"`
}

// changedAfter is the first configuration change the pod saw at or after t.
func (v flagsView) changedAfter(t time.Time) (time.Time, bool) {
	for _, e := range v.Events {
		if e.Event == appcontract.FlagChangedEvent && !e.At.Before(t) {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// podFlags reads a pod's flag events through the API server's pod proxy.
func podFlags(ctx context.Context, client kubernetes.Interface, ns, pod string) (flagsView, error) {
	var v flagsView
	body, err := client.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").
		Name(pod + ":" + strconv.Itoa(appcontract.AdminPort)).SubResource("proxy").
		Suffix(appcontract.AdminSegments(appcontract.PathFlags)...).DoRaw(ctx)
	if err != nil {
		return v, fmt.Errorf("read flag events of pod %s: %w", pod, err)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("flag events of pod %s: %w", pod, err)
	}
	return v, nil
}

// podSightings says when each pod saw a flag change.
type podSightings map[string]time.Time

// first is when the first pod saw it.
func (p podSightings) first() time.Time {
	var first time.Time
	for _, at := range p {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first
}

// last is when the last pod saw it.
func (p podSightings) last() time.Time {
	var last time.Time
	for _, at := range p {
		if at.After(last) {
			last = at
		}
	}
	return last
}

// evidence lists each pod's sighting after since, with the p50 and the max.
func (p podSightings) evidence(since time.Time) []Evidence {
	pods := make([]string, 0, len(p))
	for pod := range p {
		pods = append(pods, pod)
	}
	sort.Strings(pods)
	var out []Evidence
	lags := make([]time.Duration, 0, len(p))
	for _, pod := range pods {
		lag := p[pod].Sub(since)
		lags = append(lags, lag)
		out = append(out, Evidence{Name: "pod " + pod + " saw the flip", Value: fmt.Sprintf("%s (+%.3f s)", p[pod].Format(time.StampMilli), lag.Seconds())})
	}
	slices.Sort(lags)
	if len(lags) > 0 {
		out = append(out, Evidence{Name: "flag propagation", Value: fmt.Sprintf("p50 %.3f s, max %.3f s over %d pods", lags[(len(lags)-1)/2].Seconds(), lags[len(lags)-1].Seconds(), len(lags))})
	}
	return out
}
