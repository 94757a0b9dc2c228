package toxiproxy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// e2eTimeouts names the end-to-end test's waits by purpose.
var e2eTimeouts = struct {
	Test      time.Duration // the whole test
	PodsReady time.Duration // both pods Ready, images already on the node
	Endpoints time.Duration // the endpoints controller resolving "user"
	Poll      time.Duration // between endpoint slice reads
}{Test: 4 * time.Minute, PodsReady: 2 * time.Minute, Endpoints: 30 * time.Second, Poll: 250 * time.Millisecond}

// TestE2ESidecarFaults runs a stable pod without the sidecar and a canary pod
// with it behind one Service on a real cluster, checks that the Service's
// named port resolves to 8080 and 8081 respectively, then injects latency,
// reset and timeout faults into the canary and measures them through the
// proxy.
//
// It needs FIREDRILL_E2E=1, the images FIREDRILL_SAMPLEAPP_IMAGE and
// FIREDRILL_TOXIPROXY_IMAGE already on the nodes, and the cluster's
// kubeconfig in FIREDRILL_KUBECONFIG (default: the firedrill kind cluster's).
func TestE2ESidecarFaults(t *testing.T) {
	if os.Getenv("FIREDRILL_E2E") != "1" {
		t.Skip("end-to-end test: set FIREDRILL_E2E=1")
	}
	appImage, toxiImage := os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE"), os.Getenv("FIREDRILL_TOXIPROXY_IMAGE")
	if appImage == "" || toxiImage == "" {
		t.Fatal("FIREDRILL_SAMPLEAPP_IMAGE and FIREDRILL_TOXIPROXY_IMAGE must name images loaded on the nodes")
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeouts.Test)
	defer cancel()
	client := e2eClient(t)

	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "drill-toxi-scratch-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := client.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns.Name, metav1.DeleteOptions{})
		if err != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	t.Logf("namespace %s", ns.Name)

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "app"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString(PortNameUser)}},
		},
	}
	if _, err := client.CoreV1().Services(ns.Name).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, track := range []string{"v1", "v2"} {
		tmpl := e2ePodTemplate(appImage, track)
		if track == "v2" {
			err = WithSidecar(tmpl, toxiImage)
		} else {
			err = WithoutSidecar(tmpl)
		}
		if err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
		if _, err := client.CoreV1().Pods(ns.Name).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	readyCtx, readyCancel := context.WithTimeout(ctx, e2eTimeouts.PodsReady)
	defer readyCancel()
	start := time.Now()
	_, err = kube.WaitPods(readyCtx, client, ns.Name, "app=app", func(pods []*corev1.Pod) (bool, error) {
		return len(pods) == 2 && kube.PodReady(pods[0]) && kube.PodReady(pods[1]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("both pods Ready in %s", time.Since(start).Round(time.Millisecond))

	ports, err := servicePorts(ctx, client, ns.Name, "app", 2)
	if err != nil {
		t.Fatal(err)
	}
	if ports["app-v1"] != PortUpstream || ports["app-v2"] != PortListen {
		t.Fatalf("Service targetPort %q resolved to %v: want app-v1 8080, app-v2 8081", PortNameUser, ports)
	}
	t.Logf("Service targetPort %q resolves per pod: %v", PortNameUser, ports)

	target := Target{Namespace: ns.Name, Selector: "app=app,version=v2"}
	baseline := medianGet(ctx, t, client, ns.Name)
	t.Logf("baseline through the proxy: %s", baseline)

	const latency = 400 * time.Millisecond
	lat, err := Latency(client, target, latency, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lat.Recover(context.WithoutCancel(ctx)) })
	injected := time.Now()
	onset, err := lat.Inject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("latency onset confirmed %s after inject started", onset.Sub(injected).Round(time.Millisecond))
	slow := medianGet(ctx, t, client, ns.Name)
	t.Logf("with %s latency: %s", latency, slow)
	if slow-baseline < latency-50*time.Millisecond {
		t.Errorf("latency fault added %s, want about %s", slow-baseline, latency)
	}
	if err := lat.Verify(ctx); err == nil {
		t.Error("Verify passed while the toxic was in place")
	}
	if err := lat.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lat.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	recovered := medianGet(ctx, t, client, ns.Name)
	t.Logf("after Recover: %s", recovered)
	if recovered > baseline+latency/2 {
		t.Errorf("after Recover requests take %s, baseline %s", recovered, baseline)
	}

	reset, err := ResetPeer(client, target, 0)
	if err != nil {
		t.Fatal(err)
	}
	blackhole, err := Timeout(client, target, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*Fault{reset, blackhole} {
		t.Cleanup(func() { _ = f.Recover(context.WithoutCancel(ctx)) })
		if _, err := f.Inject(ctx); err != nil {
			t.Fatal(err)
		}
		if took, err := getThroughProxy(ctx, client, ns.Name); err == nil {
			t.Errorf("%s: GET through the proxy succeeded", f.Name())
		} else {
			t.Logf("%s: GET failed after %s: %v", f.Name(), took.Round(time.Millisecond), err)
		}
		if err := f.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := getThroughProxy(ctx, client, ns.Name); err != nil {
			t.Errorf("%s: GET after Recover: %v", f.Name(), err)
		}
		if err := f.Verify(ctx); err != nil {
			t.Error(err)
		}
	}
}

func e2eClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	path := os.Getenv("FIREDRILL_KUBECONFIG")
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(dir, "firedrill", "kubeconfig", "firedrill")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// e2ePodTemplate is the sample app as rollback deploys it, named app-<track>.
func e2ePodTemplate(image, track string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Name: "app-" + track, Labels: map[string]string{"app": "app", "version": track}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](5),
			SecurityContext:               &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			Containers: []corev1.Container{{
				Name:            "app",
				Image:           image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: PortUpstream}, {Name: "admin", ContainerPort: 9090}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(PortUpstream)}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
}

// servicePorts waits until the Service's endpoint slices name want pods and
// returns the port each pod is reached on.
func servicePorts(ctx context.Context, client kubernetes.Interface, ns, svc string, want int) (map[string]int32, error) {
	ports := map[string]int32{}
	err := wait.PollUntilContextTimeout(ctx, e2eTimeouts.Poll, e2eTimeouts.Endpoints, true, func(ctx context.Context) (bool, error) {
		list, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
		if err != nil {
			return false, err
		}
		clear(ports)
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				if e.TargetRef != nil && len(s.Ports) == 1 && s.Ports[0].Port != nil {
					ports[e.TargetRef.Name] = *s.Ports[0].Port
				}
			}
		}
		return len(ports) == want, nil
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint slices of %s: %v: %w", svc, ports, err)
	}
	return ports, nil
}

// getThroughProxy GETs / on the canary's proxy port through the API server's
// pod proxy and returns how long it took.
func getThroughProxy(ctx context.Context, client kubernetes.Interface, ns string) (time.Duration, error) {
	start := time.Now()
	_, err := client.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").
		Name(fmt.Sprintf("app-v2:%d", PortListen)).SubResource("proxy").Suffix("/").DoRaw(ctx)
	return time.Since(start), err
}

// medianGet is the median of five GETs through the proxy.
func medianGet(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string) time.Duration {
	t.Helper()
	var took []time.Duration
	for range 5 {
		d, err := getThroughProxy(ctx, client, ns)
		if err != nil {
			t.Fatalf("GET through the proxy: %v", err)
		}
		took = append(took, d)
	}
	slices.Sort(took)
	return took[len(took)/2].Round(time.Millisecond)
}
