package rollback

import (
	"context"
	"fmt"
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
		Check: func(p Plan) error {
			if p.Canary.Replicas != 0 {
				return fmt.Errorf("canary.replicas %d: the new version is a rolling update of the stable replicas; leave it 0", p.Canary.Replicas)
			}
			return checkDetection(p.Detection, DetectKubernetes, DetectHarness)
		},
		New: func(e Env, p Plan) (Machinery, error) {
			return &rolloutUndo{w: workload{env: e}, hook: newHook(RolloutUndo, e.Detection), stable: p.Stable, canary: p.Canary}, nil
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
// replica updated, ready and available, none of the old left, and every
// pod running the stable digest.
type rolloutUndo struct {
	w              workload
	hook           hook
	stable, canary Version
	// digest is the image ID the stable pods ran; pinned is the image
	// reference that names it.
	digest, pinned string
}

func (r *rolloutUndo) Name() string { return RolloutUndo }

func (r *rolloutUndo) logf(format string, args ...any) { r.w.logf(RolloutUndo, format, args...) }

func (r *rolloutUndo) Placement() Placement {
	return Placement{
		Stable:    where(versionLabels(r.stable.Name), ""),
		Canary:    where(versionLabels(r.canary.Name), ""),
		All:       LabelApp + "=" + App,
		ConfigMap: ConfigMapName(App),
	}
}

func (r *rolloutUndo) DeployStable(ctx context.Context, stable Version) error {
	client, ns := r.w.env.Client, r.w.env.Namespace
	if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, r.w.configMap(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create config map: %w", err)
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, r.w.userService(map[string]string{LabelApp: App}), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create service: %w", err)
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
	r.pinned = pinnedRef(r.w.image(r.stable), r.digest)
	r.logf("stable %s runs %s (pinned as %s)", r.stable.Name, r.digest, r.pinned)
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

// pinnedRef names the exact image an image ID denotes: the repository of
// image at the digest of imageID ("repo@sha256:…"). An image ID that is a
// bare digest is used as it is, since the runtime resolves it locally.
func pinnedRef(image, imageID string) string {
	_, digest, ok := strings.Cut(imageID, "@")
	if !ok {
		return imageID
	}
	repo := image
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + "@" + digest
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
		if v := rs.Spec.Template.Labels[LabelVersion]; n > 0 && !(Serving{Versions: s.Versions}).Has(v) {
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

func (r *rolloutUndo) Trigger(ctx context.Context, reason string) error {
	return r.hook.trigger(ctx, reason)
}

func (r *rolloutUndo) AwaitRollback(ctx context.Context) (Outcome, error) {
	out, err := r.hook.decide(ctx, func(ctx context.Context) (Outcome, error) {
		return kubernetesSignal(ctx, r.w.env.Client, r.w.env.Namespace, r.Placement().Canary.Selector, App)
	})
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
	ids, err := r.imageIDs(ctx, r.Placement().All)
	if err != nil {
		return out, err
	}
	if len(ids) != 1 || ids[0] != r.digest {
		return out, fmt.Errorf("after the undo pods run %s, want only %s", strings.Join(ids, ", "), r.digest)
	}
	out.Actuation = fmt.Sprintf("rolled back to revision %s: %d pod(s) of %s updated, ready and available on %s", revision, r.stable.Replicas, r.stable.Name, r.digest)
	out.Evidence = []Evidence{
		{Name: "image before", Value: before},
		{Name: "image after", Value: r.pinned},
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
