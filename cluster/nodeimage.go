package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/defaults"
	"sigs.k8s.io/kind/pkg/exec"
)

// OfflineImageRepo is the repository of node images built by images/build.sh.
const OfflineImageRepo = "firedrill/kind-node"

// pullTimeout bounds the attempt to pull kind's upstream node image; on a
// machine without registry access the pull fails or hangs.
const pullTimeout = 90 * time.Second

// chooseNodeImage picks the node image: an explicit one; the offline image
// when air-gapped; else kind's upstream image, falling back to the offline
// image when it cannot be pulled.
func (k *Kind) chooseNodeImage(ctx context.Context) (string, error) {
	if k.nodeImage != "" {
		return k.nodeImage, nil
	}
	if k.airgap {
		return newestOfflineImage(ctx)
	}
	upstream := defaults.Image
	if dockerHasImage(ctx, upstream) {
		return upstream, nil
	}
	k.progress.printf("pulling %s (up to %s)", upstream, pullTimeout)
	pullCtx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	if err := exec.CommandContext(pullCtx, "docker", "pull", upstream).Run(); err == nil {
		return upstream, nil
	}
	offline, err := newestOfflineImage(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot pull %s and %w", upstream, err)
	}
	k.progress.printf("cannot pull upstream node image: using offline image %s", offline)
	return offline, nil
}

func dockerHasImage(ctx context.Context, image string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", image).Run() == nil
}

// newestOfflineImage returns the most recently built offline node image.
func newestOfflineImage(ctx context.Context) (string, error) {
	lines, err := exec.OutputLines(exec.CommandContext(ctx, "docker", "images",
		"--format", "{{.CreatedAt}}\t{{.Repository}}:{{.Tag}}", OfflineImageRepo))
	if err != nil {
		return "", fmt.Errorf("list offline node images: %w", err)
	}
	images := parseImageList(lines)
	if len(images) == 0 {
		return "", fmt.Errorf("no offline node image %s:*: run `make images` first", OfflineImageRepo)
	}
	return images[0], nil
}

// parseImageList turns "created<TAB>image" lines into image names, newest
// first. Docker's CreatedAt format sorts lexically within one time zone.
func parseImageList(lines []string) []string {
	type entry struct{ created, image string }
	var entries []entry
	for _, l := range lines {
		created, image, ok := strings.Cut(l, "\t")
		if !ok || strings.HasSuffix(image, ":<none>") {
			continue
		}
		entries = append(entries, entry{created, image})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].created > entries[j].created })
	images := make([]string, len(entries))
	for i, e := range entries {
		images[i] = e.image
	}
	return images
}
