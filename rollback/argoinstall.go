package rollback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// ArgoNamespace is where the upstream install manifest runs the controller.
const ArgoNamespace = "argo-rollouts"

// argoController is the controller's Deployment in the upstream manifest.
const argoController = "argo-rollouts"

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ArgoInstall installs the Argo Rollouts controller from the upstream
// install manifest (manifests/install.yaml of the pinned module), with the
// offline image swapped in.
type ArgoInstall struct {
	// Manifest is the path of install.yaml; Image the controller image.
	Manifest, Image string
	Client          kubernetes.Interface
	Applier         *kube.Applier
	Log             io.Writer
}

// objects reads the manifest: the CRDs first, then everything else in the
// controller's namespace, with the image swapped in and never pulled.
func (in ArgoInstall) objects() (crds, rest []*unstructured.Unstructured, err error) {
	crds, rest, err = readManifest(in.Manifest, ArgoNamespace, func(d *unstructured.Unstructured) error {
		if d.GetKind() == "Deployment" && d.GetName() == argoController {
			return in.swapImage(d)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("argo-rollouts: %w", err)
	}
	return crds, append([]*unstructured.Unstructured{namespaceObject(ArgoNamespace)}, rest...), nil
}

func (in ArgoInstall) swapImage(d *unstructured.Unstructured) error {
	containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) == 0 {
		return fmt.Errorf("%s: deployment %s has no containers", in.Manifest, argoController)
	}
	for _, c := range containers {
		m := c.(map[string]any)
		m["image"], m["imagePullPolicy"] = in.Image, string(corev1.PullIfNotPresent)
	}
	return unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers")
}

// Run applies the manifest, waits for the CRDs to be established and the
// controller to be available, and returns how long it took and whether the
// controller was already there. Idempotent.
func (in ArgoInstall) Run(ctx context.Context) (took time.Duration, already bool, err error) {
	return in.install().run(ctx)
}

// Uninstall deletes what Run applied: the controller first, the CRDs (and
// so any Rollout left) last.
func (in ArgoInstall) Uninstall(ctx context.Context) error { return in.install().uninstall(ctx) }

func (in ArgoInstall) install() controllerInstall {
	return controllerInstall{what: "argo-rollouts", namespace: ArgoNamespace, deployment: argoController, image: in.Image,
		client: in.Client, applier: in.Applier, log: in.Log, objects: in.objects}
}

// waitEstablished waits until every CRD has condition Established.
func waitEstablished(ctx context.Context, dyn dynamic.Interface, crds []*unstructured.Unstructured) error {
	want := map[string]bool{}
	for _, c := range crds {
		want[c.GetName()] = true
	}
	_, err := kube.WaitObjects(ctx, dyn, crdGVR, "", "", func(items []*unstructured.Unstructured) (bool, error) {
		n := 0
		for _, c := range items {
			if want[c.GetName()] && established(c) {
				n++
			}
		}
		return n == len(want), nil
	})
	if err != nil {
		return fmt.Errorf("wait for the CRDs to be established: %w", err)
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// CheckArgoRollouts refuses, in one line, a cluster without the Rollout CRD
// or without an available Argo Rollouts controller: on an existing cluster
// firedrill uses the controller that is there and installs nothing.
func CheckArgoRollouts(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface) error {
	_, err := dyn.Resource(crdGVR).Get(ctx, rolloutsGVR.Resource+"."+rolloutsGVR.Group, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return errors.New("argo-rollouts: the Rollout CRD (rollouts.argoproj.io) is not installed in this cluster; install Argo Rollouts, or run on kind where the suite installs it")
	case err != nil:
		return fmt.Errorf("argo-rollouts: read the Rollout CRD: %s", oneLine(err))
	}
	deps, err := client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=argo-rollouts"})
	if err != nil {
		return fmt.Errorf("argo-rollouts: look for the controller: %s", oneLine(err))
	}
	for _, d := range deps.Items {
		if d.Status.AvailableReplicas > 0 {
			return nil
		}
	}
	return fmt.Errorf("argo-rollouts: the Rollout CRD is installed but no controller is available (no ready Deployment labelled app.kubernetes.io/name=argo-rollouts, %d found)", len(deps.Items))
}
