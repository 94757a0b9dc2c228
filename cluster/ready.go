package cluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// readyPoll is how often the readiness wait asks the API server.
const readyPoll = 500 * time.Millisecond

// WaitReady returns once every node is Ready, the control plane works (see
// controlPlaneNotReady), and every other kube-system pod and workload is
// Running and Ready, or ctx ends. The error names what was still not ready.
// A line of progress goes to out (may be nil) whenever the waiting-on list changes.
func WaitReady(ctx context.Context, client kubernetes.Interface, out io.Writer) error {
	var pending []string
	var last string
	err := wait.PollUntilContextCancel(ctx, readyPoll, true, func(ctx context.Context) (bool, error) {
		var err error
		pending, err = notReady(ctx, client)
		if err != nil {
			pending = []string{err.Error()}
			return false, nil
		}
		if now := strings.Join(pending, ", "); now != last && out != nil && len(pending) > 0 {
			fmt.Fprintf(out, "cluster: waiting for %s\n", now)
			last = now
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w; still waiting for: %s", err, strings.Join(pending, ", "))
	}
	return nil
}

// notReady lists the nodes and kube-system pods that are not ready yet.
func notReady(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, n := range nodes.Items {
		if !hasCondition(n.Status.Conditions, corev1.NodeReady) {
			pending = append(pending, "node/"+n.Name)
		}
	}
	if len(nodes.Items) == 0 {
		pending = append(pending, "nodes to register")
	}
	pods, err := client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Labels["tier"] == "control-plane" || notAwaited(p.Labels["k8s-app"]) {
			// Control-plane static pods are judged by what they do
			// (controlPlaneNotReady): their Ready condition waits on
			// kubeadm's startup probes, 10 s apart.
			continue
		}
		if !PodReady(&p) {
			pending = append(pending, "kube-system/"+p.Name)
		}
	}
	if len(pods.Items) == 0 {
		pending = append(pending, "kube-system pods to start")
	}
	workloads, err := notReadyWorkloads(ctx, client)
	if err != nil {
		return nil, err
	}
	return append(append(pending, workloads...), controlPlaneNotReady(ctx, client)...), nil
}

// notAwaited names the kube-system apps readiness does not wait for: no
// drill resolves a name (the observer uses a NodePort, the harness the API
// server), so CoreDNS only slowed the wait by 5 s. A component that needs
// DNS waits for CoreDNS itself.
func notAwaited(app string) bool { return app == "kube-dns" }

// leaderLeases are the leases the scheduler and the controller manager
// renew while they run their control loops.
var leaderLeases = []string{"kube-scheduler", "kube-controller-manager"}

// leaseFresh is how recently a leader must have renewed its lease.
const leaseFresh = 15 * time.Second

// controlPlaneNotReady checks the control plane by its function: the API
// server's /readyz (which includes etcd), and a recent renewal of the
// scheduler's and controller manager's leader leases, which they hold
// only while their loops run.
func controlPlaneNotReady(ctx context.Context, client kubernetes.Interface) []string {
	var pending []string
	// A fake clientset (unit tests) has no REST client to ask.
	if rc := client.Discovery().RESTClient(); rc != nil {
		if _, err := rc.Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
			pending = append(pending, "kube-apiserver /readyz")
		}
	}
	for _, name := range leaderLeases {
		l, err := client.CoordinationV1().Leases(metav1.NamespaceSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil || time.Since(l.Spec.RenewTime.Time) > leaseFresh {
			pending = append(pending, name+" leader lease")
		}
	}
	return pending
}

// notReadyWorkloads lists kube-system Deployments and DaemonSets whose pods
// are not all Ready. Right after kubeadm, CoreDNS and kube-proxy exist only
// as workloads with no pods yet, so checking pods alone passes too early.
func notReadyWorkloads(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	var pending []string
	deps, err := client.AppsV1().Deployments(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range deps.Items {
		if notAwaited(d.Spec.Template.Labels["k8s-app"]) {
			continue
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if d.Status.ObservedGeneration < d.Generation || d.Status.ReadyReplicas < want || d.Status.UpdatedReplicas < want {
			pending = append(pending, fmt.Sprintf("deployment/%s (%d/%d ready)", d.Name, d.Status.ReadyReplicas, want))
		}
	}
	dss, err := client.AppsV1().DaemonSets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, ds := range dss.Items {
		st := ds.Status
		if st.ObservedGeneration < ds.Generation || st.DesiredNumberScheduled == 0 || st.NumberReady < st.DesiredNumberScheduled {
			pending = append(pending, fmt.Sprintf("daemonset/%s (%d/%d ready)", ds.Name, st.NumberReady, st.DesiredNumberScheduled))
		}
	}
	return pending, nil
}

func hasCondition(conds []corev1.NodeCondition, t corev1.NodeConditionType) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodReady reports whether a pod is Running, not terminating, and Ready.
func PodReady(p *corev1.Pod) bool { return kube.PodReady(p) }
