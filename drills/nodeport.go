package drills

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// FreeNodePort returns the first candidate NodePort that no Service in the
// cluster uses, so drills can share a cluster's few loopback port mappings.
func FreeNodePort(ctx context.Context, client kubernetes.Interface, candidates []int32) (int32, error) {
	svcs, err := client.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list services: %w", err)
	}
	var used []int32
	for _, s := range svcs.Items {
		for _, p := range s.Spec.Ports {
			used = append(used, p.NodePort)
		}
	}
	for _, c := range candidates {
		if !slices.Contains(used, c) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("all published NodePorts %v are in use: wait for other drills or add port mappings to kind-config.yaml", candidates)
}
