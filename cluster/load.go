package cluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/exec"
)

// LoadImages copies local Docker images into every node of the cluster, like
// `kind load docker-image`. An image a node already has (same ID) is skipped,
// so reruns are fast.
func (k *Kind) LoadImages(ctx context.Context, images ...string) error {
	nodeList, err := inBackground(ctx, func() ([]nodes.Node, error) { return k.provider.ListInternalNodes(k.name) })
	if err != nil {
		return fmt.Errorf("list nodes of %q: %w", k.name, err)
	}
	for _, image := range images {
		start := time.Now()
		id, err := localImageID(ctx, image)
		if err != nil {
			return err
		}
		for _, n := range nodeList {
			if have, _ := nodeutils.ImageID(n, image); have == id {
				continue
			}
			if err := loadImage(ctx, n, image); err != nil {
				return fmt.Errorf("load image %s into node %s: %w", image, n.String(), err)
			}
			k.progress.done(fmt.Sprintf("loaded %s into %s", image, n.String()), start)
		}
	}
	return nil
}

func localImageID(ctx context.Context, image string) (string, error) {
	out, err := exec.Output(exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", image))
	if err != nil {
		return "", fmt.Errorf("image %s is not in the local Docker: %w", image, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// loadImage streams `docker save` straight into the node's containerd.
func loadImage(ctx context.Context, n nodes.Node, image string) error {
	pr, pw := io.Pipe()
	save := exec.CommandContext(ctx, "docker", "save", image).SetStdout(pw)
	go func() { pw.CloseWithError(save.Run()) }()
	err := nodeutils.LoadImageArchive(n, pr)
	pr.CloseWithError(err)
	return err
}
