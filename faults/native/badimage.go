package native

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// imagePullReasons are the waiting reasons of a container whose image the
// kubelet cannot get; any of them means the bad image has reached a node.
var imagePullReasons = map[string]bool{
	"ErrImagePull":      true,
	"ImagePullBackOff":  true,
	"ErrImageNeverPull": true,
	"InvalidImageName":  true,
}

// BadImageFault rolls a Deployment to an image that cannot be pulled, the
// way a release with a typo in its tag or a missing push does. The old
// ReplicaSet keeps serving until the machinery or the progress deadline
// acts, which is what the drill measures.
type BadImageFault struct {
	client     kubernetes.Interface
	ns         string
	deployment string
	image      string

	mu       sync.Mutex
	original string
}

var _ faults.Fault = (*BadImageFault)(nil)

// BadImage returns a bad-image fault that sets the app container of
// deployment in ns to image, which must not exist.
func BadImage(client kubernetes.Interface, ns, deployment, image string) (*BadImageFault, error) {
	const fault = "bad-image"
	if err := checkCommon(fault, client, ns); err != nil {
		return nil, err
	}
	if err := checkName(fault, "deployment", deployment); err != nil {
		return nil, err
	}
	if image == "" || strings.ContainsAny(image, " \t\n") {
		return nil, fmt.Errorf("native: bad-image: image %q must be non-empty without spaces", image)
	}
	return &BadImageFault{client: client, ns: ns, deployment: deployment, image: image}, nil
}

// Name implements faults.Fault.
func (f *BadImageFault) Name() string { return "bad-image" }

// Backend implements faults.Fault.
func (f *BadImageFault) Backend() string { return backend }

// Inject remembers the app image, patches in the bad one, and confirms onset
// when a pod of the new ReplicaSet cannot pull it. Such pods are told apart
// by their spec image, which needs no knowledge of pod-template hashes.
func (f *BadImageFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dep, err := f.client.AppsV1().Deployments(f.ns).Get(ctx, f.deployment, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("native: bad-image: get deployment %s/%s: %w", f.ns, f.deployment, err)
	}
	if err := f.remember(dep); err != nil {
		return time.Time{}, err
	}
	selector, err := podSelector(dep)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: bad-image: %w", err)
	}
	if err := f.setImage(ctx, f.image); err != nil {
		return time.Time{}, err
	}
	at, err := kube.WaitPods(ctx, f.client, f.ns, selector, f.pulling)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: bad-image: confirm a pod cannot pull %s: %w", f.image, err)
	}
	return at, nil
}

// remember keeps the image the Deployment ran before the first Inject, so a
// second Inject cannot make the bad image the one Recover restores.
func (f *BadImageFault) remember(dep *appsv1.Deployment) error {
	if f.original != "" {
		return nil
	}
	c, err := appOf(f.Name(), dep)
	if err != nil {
		return err
	}
	if c.Image == f.image {
		return fmt.Errorf("native: bad-image: deployment %s/%s already runs %s", f.ns, f.deployment, f.image)
	}
	f.original = c.Image
	return nil
}

// setImage patches the app container's image.
func (f *BadImageFault) setImage(ctx context.Context, image string) error {
	patch, err := json.Marshal(appPatch(map[string]any{"image": image}))
	if err != nil {
		return fmt.Errorf("native: bad-image: %w", err)
	}
	_, err = f.client.AppsV1().Deployments(f.ns).Patch(ctx, f.deployment, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("native: bad-image: set image of %s/%s to %s: %w", f.ns, f.deployment, image, err)
	}
	return nil
}

// pulling holds when a pod with the bad image waits on its pull.
func (f *BadImageFault) pulling(pods []*corev1.Pod) (bool, error) {
	for _, p := range pods {
		if c := container(&p.Spec, appContainer); c == nil || c.Image != f.image {
			continue
		}
		for _, s := range p.Status.ContainerStatuses {
			if w := s.State.Waiting; w != nil && imagePullReasons[w.Reason] {
				return true, nil
			}
		}
	}
	return false, nil
}

// Recover patches the original image back and waits until every pod of the
// Deployment runs it, so that Verify, which does not wait, can pass right
// after. A Deployment that is gone has nothing left to recover.
func (f *BadImageFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.original == "" {
		return nil
	}
	dep, err := f.client.AppsV1().Deployments(f.ns).Get(ctx, f.deployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("native: bad-image: recover: get deployment %s/%s: %w", f.ns, f.deployment, err)
	}
	selector, err := podSelector(dep)
	if err != nil {
		return fmt.Errorf("native: bad-image: recover: %w", err)
	}
	if err := f.setImage(ctx, f.original); err != nil {
		return err
	}
	_, err = kube.WaitPods(ctx, f.client, f.ns, selector, func(pods []*corev1.Pod) (bool, error) {
		return len(f.strays(pods)) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("native: bad-image: recover: wait for every pod to run %s: %w", f.original, err)
	}
	return nil
}

// Verify checks that the Deployment's spec names the original image and
// that every one of its pods runs it.
func (f *BadImageFault) Verify(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.original == "" {
		return nil
	}
	dep, err := f.client.AppsV1().Deployments(f.ns).Get(ctx, f.deployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("native: bad-image: verify: get deployment %s/%s: %w", f.ns, f.deployment, err)
	}
	c, err := appOf(f.Name(), dep)
	if err != nil {
		return err
	}
	if c.Image != f.original {
		return fmt.Errorf("native: bad-image: verify: deployment %s/%s runs %s, want %s", f.ns, f.deployment, c.Image, f.original)
	}
	return f.verifyPods(ctx, dep)
}

func (f *BadImageFault) verifyPods(ctx context.Context, dep *appsv1.Deployment) error {
	selector, err := podSelector(dep)
	if err != nil {
		return fmt.Errorf("native: bad-image: verify: %w", err)
	}
	pods, err := listPods(ctx, f.client, f.ns, selector)
	if err != nil {
		return fmt.Errorf("native: bad-image: verify: %w", err)
	}
	if strays := f.strays(pods); len(strays) > 0 {
		return fmt.Errorf("native: bad-image: verify: pod(s) %v do not run %s", strays, f.original)
	}
	return nil
}

// strays names the pods whose app container does not run the original
// image.
func (f *BadImageFault) strays(pods []*corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		if c := container(&p.Spec, appContainer); c == nil || c.Image != f.original {
			names = append(names, p.Name)
		}
	}
	return names
}
