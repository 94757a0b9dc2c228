package rollback

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// controllerInstall is what the Argo Rollouts and Flagger installs share:
// CRDs and the rest of an upstream install applied in order, then the
// controller's Deployment waited for; and the reverse.
type controllerInstall struct {
	// what names the controller in errors and progress lines.
	what string
	// namespace and deployment are where the controller runs.
	namespace, deployment, image string
	client                       kubernetes.Interface
	applier                      *kube.Applier
	log                          io.Writer
	// objects reads the install: the CRDs, and the rest in apply order.
	objects func() (crds, rest []*unstructured.Unstructured, err error)
}

// run applies the CRDs then the rest, waits for the CRDs to be established
// and the controller to be available, and returns how long it took and
// whether the controller was already there. Idempotent.
func (in controllerInstall) run(ctx context.Context) (took time.Duration, already bool, err error) {
	start := time.Now()
	crds, rest, err := in.objects()
	if err != nil {
		return 0, false, err
	}
	_, err = in.client.AppsV1().Deployments(in.namespace).Get(ctx, in.deployment, metav1.GetOptions{})
	already = err == nil
	for _, obj := range append(crds, rest...) {
		if err := in.applier.Apply(ctx, obj); err != nil {
			return 0, already, fmt.Errorf("install %s: %w", in.what, err)
		}
	}
	if err := waitEstablished(ctx, in.applier.Dynamic, crds); err != nil {
		return 0, already, fmt.Errorf("install %s: %w", in.what, err)
	}
	logf(in.log, in.what, "CRDs established; waiting for the controller")
	if err := waitAvailable(ctx, in.client, in.namespace, in.deployment); err != nil {
		return 0, already, fmt.Errorf("install %s: %w", in.what, err)
	}
	took = time.Since(start)
	logf(in.log, in.what, "controller %s available in %s (already installed: %t)", in.image, took.Round(100*time.Millisecond), already)
	return took, already, nil
}

// uninstall deletes what run applied: the controller first, the CRDs (and
// so any custom resource left) last.
func (in controllerInstall) uninstall(ctx context.Context) error {
	crds, rest, err := in.objects()
	if err != nil {
		return err
	}
	all := append(rest, crds...)
	for i := len(all) - 1; i >= 0; i-- {
		if err := in.applier.Delete(ctx, all[i]); err != nil {
			return fmt.Errorf("uninstall %s: %w", in.what, err)
		}
	}
	return nil
}

// readManifest reads one upstream manifest file into the CRDs and the rest,
// the rest placed in namespace ns (cluster roles stay cluster-wide); each
// of the rest goes through adjust first, when it is set.
func readManifest(path, ns string, adjust func(*unstructured.Unstructured) error) (crds, rest []*unstructured.Unstructured, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("install manifest: %w", err)
	}
	docs, err := kube.Documents(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, d := range docs {
		switch d.GetKind() {
		case "CustomResourceDefinition":
			crds = append(crds, d)
			continue
		case "ClusterRole", "ClusterRoleBinding":
		default:
			d.SetNamespace(ns)
		}
		if adjust != nil {
			if err := adjust(d); err != nil {
				return nil, nil, err
			}
		}
		rest = append(rest, d)
	}
	return crds, rest, nil
}

// namespaceObject is the controller's namespace as an object to apply.
func namespaceObject(name string) *unstructured.Unstructured {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	return ns
}
