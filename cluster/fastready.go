package cluster

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// coreDNSPatch makes CoreDNS report ready as soon as it is: kubeadm's
// readiness probe asks every 10 s, which alone kept a fresh cluster from
// Ready for 10–20 s after CoreDNS could answer. One replica is enough on a
// drill cluster: nothing here spreads DNS load. The probe still asks
// CoreDNS's own /ready, so Ready stays honest.
const coreDNSPatch = `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"coredns",
"readinessProbe":{"periodSeconds":1,"initialDelaySeconds":0,"failureThreshold":3}}]}}}}`

// tuneReadiness patches kubeadm's CoreDNS Deployment right after create,
// before its pods can run (the node is not Ready yet), so that the first
// pods already carry the fast probe and no rollout is needed later.
func tuneReadiness(ctx context.Context, client kubernetes.Interface) error {
	deps := client.AppsV1().Deployments(metav1.NamespaceSystem)
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := deps.Patch(ctx, "coredns", types.StrategicMergePatchType, []byte(coreDNSPatch), metav1.PatchOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("patch the CoreDNS readiness probe: %w", err)
	}
	return nil
}
