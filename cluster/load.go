package cluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distribution/reference"
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
			if have, _ := nodeutils.ImageID(n, image); have != id {
				if err := loadImage(ctx, n, image); err != nil {
					return fmt.Errorf("load image %s into node %s: %w", image, n.String(), err)
				}
				k.progress.done(fmt.Sprintf("loaded %s into %s", image, n.String()), start)
			}
			if err := nameDigest(ctx, n, image); err != nil {
				return fmt.Errorf("name the digest of %s on node %s: %w", image, n.String(), err)
			}
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

// nameDigest gives a side-loaded image the digest reference a registry pull
// would have made (docker.io/repo@sha256:…), so that a pod can pin the
// exact image by digest and the runtime finds it without a registry. An
// import names the digest only as import-<date>@sha256:…, which no pod can
// ask for. It is idempotent.
func nameDigest(ctx context.Context, n nodes.Node, image string) error {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return fmt.Errorf("image %s: %w", image, err)
	}
	var out strings.Builder
	if err := n.CommandContext(ctx, "crictl", "inspecti", "-o", "go-template", "--template", "{{range .status.repoDigests}}{{.}} {{end}}", image).SetStdout(&out).Run(); err != nil {
		return fmt.Errorf("crictl inspecti: %w", err)
	}
	for _, rd := range strings.Fields(out.String()) {
		_, digest, ok := strings.Cut(rd, "@")
		if !ok || strings.HasPrefix(rd, named.Name()+"@") {
			continue
		}
		source := strings.TrimPrefix(rd, "docker.io/library/")
		if err := n.CommandContext(ctx, "ctr", "--namespace=k8s.io", "images", "tag", "--force", source, named.Name()+"@"+digest).Run(); err != nil {
			return fmt.Errorf("ctr images tag %s: %w", source, err)
		}
	}
	return nil
}
