package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/cluster"
)

// e2eName is a cluster of its own, so the test never touches the drill cluster.
const (
	e2eName       = "firedrill-e2e"
	e2ePortOffset = 1000
	appNodePort   = 30080
)

// e2eOptions builds the cluster options from the environment the Makefile
// sets: FIREDRILL_AIRGAP and FIREDRILL_NODE_IMAGE.
func e2eOptions() []cluster.Option {
	return []cluster.Option{
		cluster.WithName(e2eName),
		cluster.WithHostPortOffset(e2ePortOffset),
		cluster.WithAirgap(os.Getenv("FIREDRILL_AIRGAP") == "1"),
		cluster.WithNodeImage(os.Getenv("FIREDRILL_NODE_IMAGE")),
	}
}

func requireE2E(t testing.TB) string {
	if os.Getenv("FIREDRILL_E2E") != "1" {
		t.Skip("end-to-end test: set FIREDRILL_E2E=1 (make test does)")
	}
	image := os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE")
	if image == "" {
		t.Fatal("FIREDRILL_SAMPLEAPP_IMAGE is not set: run through `make test`")
	}
	return image
}

// TestE2EKindCluster creates a real kind cluster, loads a locally built
// image, serves it through a NodePort on 127.0.0.1, then deletes the cluster
// and checks that no kind container is left.
func TestE2EKindCluster(t *testing.T) {
	image := requireE2E(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kind := cluster.NewKind(e2eOptions()...)
	if err := kind.Down(ctx); err != nil {
		t.Fatalf("remove leftover cluster: %v", err)
	}
	start := time.Now()
	c, err := kind.Up(ctx)
	if err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	t.Cleanup(func() { _ = kind.Down(context.Background()) })
	t.Logf("cluster %s Ready in %.1fs, Kubernetes %s", c.Name, time.Since(start).Seconds(), c.Version)
	assertControlPlaneRunning(t, ctx, c)
	assertCoreDNSReadySoon(t, ctx, c)

	if err := kind.LoadImages(ctx, image); err != nil {
		t.Fatalf("load image: %v", err)
	}
	deployApp(t, ctx, c, image)
	url := fmt.Sprintf("http://127.0.0.1:%d/", appNodePort+e2ePortOffset)
	body := waitForHTTP200(t, ctx, url)
	if !strings.HasPrefix(body, "version=e2e") {
		t.Fatalf("GET %s answered %q, want the app's version=e2e", url, body)
	}

	if err := kind.Down(ctx); err != nil {
		t.Fatalf("delete cluster: %v", err)
	}
	if left := kindContainers(t, e2eName); left != "" {
		t.Fatalf("kind containers left after delete: %s", left)
	}
}

// assertControlPlaneRunning checks the components the acceptance names.
// The control plane's static pods must run; their Ready condition waits on
// kubeadm's 10 s startup probes, so readiness judged them by /readyz and
// their leader leases instead, and the app deployed next proves they work.
// kube-proxy and CoreDNS must be Ready.
func assertControlPlaneRunning(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list kube-system pods: %v", err)
	}
	for _, want := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kube-proxy"} {
		found := false
		for i := range pods.Items {
			p := &pods.Items[i]
			ok := cluster.PodReady(p)
			if p.Labels["tier"] == "control-plane" {
				ok = p.Status.Phase == corev1.PodRunning
			}
			if strings.HasPrefix(p.Name, want) && ok {
				found = true
			}
		}
		if !found {
			t.Errorf("no running %s pod in kube-system (Ready, for kube-proxy)", want)
		}
	}
}

// assertCoreDNSReadySoon: readiness does not wait for CoreDNS, which no
// drill needs, but the cluster must still have a working one shortly after.
func assertCoreDNSReadySoon(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	t.Helper()
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := c.Client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
		if err != nil {
			return false, nil
		}
		for i := range pods.Items {
			if cluster.PodReady(&pods.Items[i]) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CoreDNS not Ready within 30 s of the cluster: %v", err)
	}
	t.Logf("CoreDNS Ready %.1fs after the cluster", time.Since(start).Seconds())
}

func deployApp(t *testing.T, ctx context.Context, c *cluster.Cluster, image string) {
	t.Helper()
	labels := map[string]string{"app": "e2e"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: image, ImagePullPolicy: corev1.PullNever,
					Env:   []corev1.EnvVar{{Name: "VERSION", Value: "e2e"}},
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}
	if _, err := c.Client.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: labels,
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: appNodePort}},
		},
	}
	if _, err := c.Client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}
}

func waitForHTTP200(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	var body, last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, last = string(raw), resp.Status
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("GET %s never answered 200 (last: %s): %v", url, last, err)
	}
	return body
}

// kindContainers lists the Docker containers kind labels with the cluster name.
func kindContainers(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster="+name, "--format", "{{.Names}}").Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.TrimSpace(string(out))
}
