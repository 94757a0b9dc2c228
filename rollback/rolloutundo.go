package rollback

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// RolloutUndo is the machinery name of the Kubernetes-native rollback.
const RolloutUndo = "rollout-undo"

// revisionAnnotation is where the Deployment controller numbers revisions.
const revisionAnnotation = "deployment.kubernetes.io/revision"

func init() {
	Register(Spec{
		Name:    RolloutUndo,
		Summary: "one Deployment rolled to the new version; rollback restores the previous ReplicaSet's template with the image pinned to its exact digest",
		Check:   checkSizesItself("the new version is a rolling update of the stable replicas"),
		New: func(e Env, p Plan) (Machinery, error) {
			return &rolloutUndo{base: newBase(RolloutUndo, e), stable: p.Stable, canary: p.Canary}, nil
		},
	})
}

// rolloutUndo is what `kubectl rollout undo` does, through client-go: one
// Deployment; the new version is a rolling update (maxSurge 1,
// maxUnavailable 0), so its ReplicaSet is the canary while it rolls out.
// Rolling back restores the previous ReplicaSet's pod template, with the
// image pinned to the exact digest the stable pods ran.
//
// Decided is the alert hook firing or the first Kubernetes signal (a new
// pod crashing or unable to pull, the progress deadline). Actuated is the
// rollout back observed complete: observedGeneration caught up and every
// replica updated, ready and available, no pod of the new version left (not
// even one still draining), and every pod running the stable digest.
type rolloutUndo struct {
	base
	stable, canary Version
	// digest is the image ID the stable pods ran; pinned is the image
	// reference that names exactly it.
	digest, pinned string
}

func (r *rolloutUndo) Name() string { return RolloutUndo }

func (r *rolloutUndo) logf(format string, args ...any) { r.w.logf(RolloutUndo, format, args...) }

func (r *rolloutUndo) Placement() Placement {
	return placement(where(versionLabels(r.stable.Name), ""), where(versionLabels(r.canary.Name), ""))
}

func (r *rolloutUndo) DeployStable(ctx context.Context, stable Version) error {
	client, ns := r.w.env.Client, r.w.env.Namespace
	if err := r.w.setUp(ctx, map[string]string{LabelApp: App}); err != nil {
		return err
	}
	dep, err := r.w.deployment(App, map[string]string{LabelApp: App}, stable, false)
	if err != nil {
		return err
	}
	one := intstr.FromInt32(1)
	zero := intstr.FromInt32(0)
	dep.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}}
	dep.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	r.logf("waiting for %d pod(s) of %s", stable.Replicas, stable.Name)
	if _, err := kube.WaitDeployment(ctx, client, ns, App, func(d *appsv1.Deployment) (bool, error) { return rolledOut(d), nil }); err != nil {
		return fmt.Errorf("wait for %s to roll out: %w", stable.Name, err)
	}
	return r.recordDigest(ctx)
}

// recordDigest reads the image ID every stable pod runs; they must agree.
func (r *rolloutUndo) recordDigest(ctx context.Context) error {
	ids, err := r.imageIDs(ctx, r.Placement().Stable.Selector)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return fmt.Errorf("stable pods run %d image IDs (%s), want one", len(ids), strings.Join(ids, ", "))
	}
	r.digest = ids[0]
	r.pinned, err = pinnedRef(r.w.image(r.stable), r.digest)
	if err != nil {
		return fmt.Errorf("stable %s: %w", r.stable.Name, err)
	}
	r.logf("stable %s (%s) runs %s, pinned as %s", r.stable.Name, r.w.image(r.stable), r.digest, r.pinned)
	return nil
}

// imageIDs lists the distinct image IDs of the app container on the
// running pods matching selector.
func (r *rolloutUndo) imageIDs(ctx context.Context, selector string) ([]string, error) {
	pods, err := r.w.env.Client.CoreV1().Pods(r.w.env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %s: %w", selector, err)
	}
	seen := map[string]bool{}
	var ids []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.ContainerStatuses {
			if c.Name == appcontract.Container && c.ImageID != "" && !seen[c.ImageID] {
				seen[c.ImageID] = true
				ids = append(ids, c.ImageID)
			}
		}
	}
	return ids, nil
}

// pinnedRef names exactly the image an image ID denotes: the repository of
// image at the digest of imageID ("repo@sha256:…"), which the runtime
// resolves without a tag. A registry pull names the digest so; cluster
// names the digests of the images it side-loads the same way.
func pinnedRef(image, imageID string) (string, error) {
	_, digest, ok := strings.Cut(imageID, "@")
	if !ok || !strings.HasPrefix(digest, "sha256:") {
		return "", fmt.Errorf("image ID %q is not a digest reference", imageID)
	}
	repo := image
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + "@" + digest, nil
}

// sameDigest holds when every image ID names the digest want.
func sameDigest(ids []string, want string) bool {
	for _, id := range ids {
		if digestOf(id) != want {
			return false
		}
	}
	return len(ids) > 0
}

// digestOf is the sha256 digest of an image ID or reference.
func digestOf(imageID string) string {
	if i := strings.Index(imageID, "sha256:"); i >= 0 {
		return imageID[i:]
	}
	return imageID
}

func (r *rolloutUndo) StartCanary(ctx context.Context, canary Version) error {
	tmpl, err := r.w.template(canary, map[string]string{LabelApp: App}, true)
	if err != nil {
		return err
	}
	if err := r.setTemplate(ctx, tmpl); err != nil {
		return fmt.Errorf("roll out %s: %w", canary.Name, err)
	}
	r.logf("rolling out %s over %d replica(s) of %s", canary.Name, r.stable.Replicas, r.stable.Name)
	return nil
}

// setTemplate replaces the Deployment's pod template, retrying on conflict.
func (r *rolloutUndo) setTemplate(ctx context.Context, tmpl corev1.PodTemplateSpec) error {
	deps := r.w.env.Client.AppsV1().Deployments(r.w.env.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := deps.Get(ctx, App, metav1.GetOptions{})
		if err != nil {
			return err
		}
		dep.Spec.Template = tmpl
		_, err = deps.Update(ctx, dep, metav1.UpdateOptions{})
		return err
	})
}

// Serving names the versions of the ReplicaSets that still want pods.
func (r *rolloutUndo) Serving(ctx context.Context) (Serving, error) {
	sets, err := r.replicaSets(ctx)
	if err != nil {
		return Serving{}, err
	}
	var s Serving
	for _, rs := range sets {
		n := ptr.Deref(rs.Spec.Replicas, 0)
		s.Detail += fmt.Sprintf("%s (revision %s): %d replica(s); ", rs.Spec.Template.Labels[LabelVersion], rs.Annotations[revisionAnnotation], n)
		if v := rs.Spec.Template.Labels[LabelVersion]; n > 0 && !slices.Contains(s.Versions, v) {
			s.Versions = append(s.Versions, v)
		}
	}
	return s, nil
}

// replicaSets lists the ReplicaSets the app's Deployment owns.
func (r *rolloutUndo) replicaSets(ctx context.Context) ([]appsv1.ReplicaSet, error) {
	client, ns := r.w.env.Client, r.w.env.Namespace
	dep, err := client.AppsV1().Deployments(ns).Get(ctx, App, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
	}
	list, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelApp + "=" + App})
	if err != nil {
		return nil, fmt.Errorf("list replica sets: %w", err)
	}
	var owned []appsv1.ReplicaSet
	for _, rs := range list.Items {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == dep.UID {
			owned = append(owned, rs)
		}
	}
	return owned, nil
}

func (r *rolloutUndo) AwaitRollback(ctx context.Context) (Outcome, error) {
	// The new version shares the one Deployment, whose progress deadline
	// is the new rollout's.
	out, err := r.decide(ctx, r.Placement().Canary.Selector, App)
	if err != nil {
		return out, err
	}
	r.logf("undoing the rollout at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
	before := r.badImage(ctx)
	revision, err := r.undo(ctx)
	if err != nil {
		return out, err
	}
	out.Actuated, err = kube.WaitDeployment(ctx, r.w.env.Client, r.w.env.Namespace, App, func(d *appsv1.Deployment) (bool, error) {
		return rolledOut(d) && d.Spec.Template.Labels[LabelVersion] == r.stable.Name, nil
	})
	if err != nil {
		return out, fmt.Errorf("wait for the rollout back to %s: %w", r.stable.Name, err)
	}
	// The Deployment counts a terminating pod as gone while it still drains
	// and serves; the bad version is rolled back once none of its pods is left.
	out.Actuated, err = kube.WaitPods(ctx, r.w.env.Client, r.w.env.Namespace, r.Placement().Canary.Selector, func(pods []*corev1.Pod) (bool, error) {
		return len(pods) == 0, nil
	})
	if err != nil {
		return out, fmt.Errorf("wait for the pods of %s to be gone: %w", r.canary.Name, err)
	}
	ids, err := r.imageIDs(ctx, r.Placement().All)
	if err != nil {
		return out, err
	}
	if !sameDigest(ids, digestOf(r.digest)) {
		return out, fmt.Errorf("after the undo pods run %s, want only %s", strings.Join(ids, ", "), digestOf(r.digest))
	}
	out.Actuation = fmt.Sprintf("rolled back to revision %s: %d pod(s) of %s updated, ready and available on %s, no pod of %s left", revision, r.stable.Replicas, r.stable.Name, r.pinned, r.canary.Name)
	out.Evidence = []Evidence{
		{Name: "image before", Value: before},
		{Name: "stable image (tag)", Value: r.w.image(r.stable)},
		{Name: "image after (pinned digest)", Value: r.pinned},
		{Name: "pods' imageID after", Value: ids[0]},
		{Name: "restored revision", Value: revision},
	}
	r.logf("rollback actuated: %s", out.Actuation)
	return out, nil
}

// badImage names what the new version ran: its pods' image IDs, or the
// image it asked for when no pod got to run it.
func (r *rolloutUndo) badImage(ctx context.Context) string {
	ids, err := r.imageIDs(ctx, r.Placement().Canary.Selector)
	if err != nil || len(ids) == 0 {
		return r.w.image(r.canary) + " (no pod ran it)"
	}
	return strings.Join(ids, ", ")
}

// undo restores the pod template of the newest ReplicaSet older than the
// Deployment's current revision, pinned to the stable digest, and returns
// that ReplicaSet's revision.
func (r *rolloutUndo) undo(ctx context.Context) (string, error) {
	sets, err := r.replicaSets(ctx)
	if err != nil {
		return "", err
	}
	prev, err := previous(sets)
	if err != nil {
		return "", err
	}
	tmpl := *prev.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	for i := range tmpl.Spec.Containers {
		if tmpl.Spec.Containers[i].Name == appcontract.Container {
			tmpl.Spec.Containers[i].Image = r.pinned
		}
	}
	if err := r.setTemplate(ctx, tmpl); err != nil {
		return "", fmt.Errorf("restore revision %s: %w", prev.Annotations[revisionAnnotation], err)
	}
	return prev.Annotations[revisionAnnotation], nil
}

// previous returns the ReplicaSet with the second-highest revision, which
// is what rollout undo goes back to.
func previous(sets []appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	var newest, prev *appsv1.ReplicaSet
	var newestRev, prevRev int64 = -1, -1
	for i := range sets {
		rev, err := strconv.ParseInt(sets[i].Annotations[revisionAnnotation], 10, 64)
		if err != nil {
			continue
		}
		switch {
		case rev > newestRev:
			prev, prevRev = newest, newestRev
			newest, newestRev = &sets[i], rev
		case rev > prevRev:
			prev, prevRev = &sets[i], rev
		}
	}
	if prev == nil {
		return nil, fmt.Errorf("no earlier revision to undo to (%d replica set(s))", len(sets))
	}
	return prev, nil
}

// Creates implements Describer.
func (r *rolloutUndo) Creates() []string {
	return append(r.w.objects(), fmt.Sprintf("Deployment %s (%s, rolled to %s)", App, replicasOf(r.stable), r.canary.Name))
}
