package rollback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// FlaggerNamespace is where the upstream kustomization runs the controller.
const FlaggerNamespace = "flagger-system"

// flaggerController names the controller's Deployment and ServiceAccount.
const flaggerController = "flagger"

// flaggerManifests are the files of the pinned module's base kustomization
// that the install applies as they are; the Deployment is built here, since
// the upstream one probes health with wget, which a scratch image lacks.
var flaggerManifests = []string{"crd.yaml", "account.yaml", "rbac.yaml"}

// FlaggerInstall installs the Flagger controller from the pinned module's
// manifests (kustomize/base/flagger), with the offline image, the
// kubernetes provider, and the Deployment built here.
type FlaggerInstall struct {
	// ModuleDir is the Flagger module's directory; Image the controller image.
	ModuleDir, Image string
	Client           kubernetes.Interface
	Applier          *kube.Applier
	Log              io.Writer
}

// objects reads the manifests: the CRDs first, then the rest in the
// controller's namespace, and the Deployment last.
func (in FlaggerInstall) objects() (crds, rest []*unstructured.Unstructured, err error) {
	rest = append(rest, namespaceObject(FlaggerNamespace))
	for _, name := range flaggerManifests {
		c, r, err := readManifest(filepath.Join(in.ModuleDir, "kustomize", "base", "flagger", name), FlaggerNamespace, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("flagger: %w", err)
		}
		crds, rest = append(crds, c...), append(rest, r...)
	}
	dep, err := runtime.DefaultUnstructuredConverter.ToUnstructured(in.deployment())
	if err != nil {
		return nil, nil, fmt.Errorf("flagger deployment: %w", err)
	}
	return crds, append(rest, &unstructured.Unstructured{Object: dep}), nil
}

// flaggerControlLoop is how often the controller looks for new Canaries
// (its default is 10 s); each Canary's analysis keeps its own interval.
const flaggerControlLoop = 2 * time.Second

func (in FlaggerInstall) deployment() *appsv1.Deployment {
	labels := map[string]string{LabelApp: flaggerController}
	health := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 2}
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: metav1.ObjectMeta{Name: flaggerController, Namespace: FlaggerNamespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				ServiceAccountName: flaggerController,
				Containers: []corev1.Container{{
					Name: flaggerController, Image: in.Image, ImagePullPolicy: corev1.PullIfNotPresent,
					Args: []string{"-log-level=info", "-mesh-provider=kubernetes", "-include-label-prefix=app.kubernetes.io",
						"-control-loop-interval=" + flaggerControlLoop.String(),
						// No drill's analysis has a metric (the rollout gate
						// decides), so Flagger may find no Prometheus here.
						"-metrics-server=" + DefaultPrometheus.URL()},
					Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					ReadinessProbe:  health,
					LivenessProbe:   health,
					SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true), RunAsNonRoot: ptr.To(true)},
				}},
			}},
		},
	}
}

// Run applies the install, waits for the CRDs to be established and the
// controller to be available, and returns how long it took and whether the
// controller was already there. Idempotent.
func (in FlaggerInstall) Run(ctx context.Context) (took time.Duration, already bool, err error) {
	return in.install().run(ctx)
}

// Uninstall deletes what Run applied, the CRDs (and any Canary left) last.
func (in FlaggerInstall) Uninstall(ctx context.Context) error { return in.install().uninstall(ctx) }

func (in FlaggerInstall) install() controllerInstall {
	return controllerInstall{what: Flagger, namespace: FlaggerNamespace, deployment: flaggerController, image: in.Image,
		client: in.Client, applier: in.Applier, log: in.Log, objects: in.objects}
}

// CheckFlagger refuses, in one line, a cluster without the Canary CRD or
// without an available Flagger controller: on an existing cluster firedrill
// uses the controller that is there and installs nothing.
func CheckFlagger(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface) error {
	_, err := dyn.Resource(crdGVR).Get(ctx, canariesGVR.Resource+"."+canariesGVR.Group, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return errors.New("flagger: the Canary CRD (canaries.flagger.app) is not installed in this cluster; install Flagger with the kubernetes provider, or run on kind where the suite installs it")
	case err != nil:
		return fmt.Errorf("flagger: read the Canary CRD: %s", oneLine(err))
	}
	deps, err := client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("flagger: look for the controller: %s", oneLine(err))
	}
	for _, d := range deps.Items {
		if d.Name == flaggerController && d.Status.AvailableReplicas > 0 {
			return nil
		}
	}
	return errors.New("flagger: the Canary CRD is installed but no controller is available (no ready Deployment named flagger)")
}
