package cluster

import (
	"context"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// warmImages are the preloaded images whose first start on a fresh node is
// slow: containerd unpacks an image's layers when a container first uses
// it, and kube-proxy's (about 250 MB) took 6 s on 2 cores, after the
// controller manager had created its pod. Drills need kube-proxy for their
// NodePorts, so its unpack is moved into the create, where kubeadm mostly
// waits.
var warmImages = []string{"registry.k8s.io/kube-proxy:"}

// warmNode unpacks warmImages inside the node while the cluster is being
// created: it waits for the node's containerd, then mounts each image
// read-only once (which unpacks it) and unmounts it. It is best effort:
// a failure only costs the seconds it meant to save.
func (k *Kind) warmNode(ctx context.Context) {
	ctr := func(args ...string) (string, error) {
		return k.NodeExec(ctx, append([]string{"ctr", "--namespace", "k8s.io"}, args...)...)
	}
	var images string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		out, err := ctr("images", "ls", "-q")
		images = out
		return err == nil, nil
	})
	if err != nil {
		return
	}
	for _, ref := range strings.Fields(images) {
		for _, prefix := range warmImages {
			if strings.HasPrefix(ref, prefix) {
				target := "/tmp/firedrill-warm"
				if _, err := ctr("images", "mount", "--rw=false", ref, target); err == nil {
					_, _ = ctr("images", "unmount", target)
				}
			}
		}
	}
}
