package native

import (
	"context"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// backend is what every fault of this package returns from Backend.
const backend = "native"

// appContainer is the sample app's container in the drill's Deployments.
const appContainer = appcontract.Container

// checkNamespace refuses a namespace that is not a drill namespace: a
// native fault acts on whatever it is pointed at.
func checkNamespace(ns string) error { return appcontract.CheckNamespace("native", ns) }

// checkCommon validates what every fault needs: a client and a drill
// namespace.
func checkCommon(fault string, client kubernetes.Interface, ns string) error {
	if client == nil {
		return fmt.Errorf("native: %s: client is nil", fault)
	}
	return checkNamespace(ns)
}

// checkSelector refuses a selector that does not parse or that is empty,
// since an empty selector matches every pod in the namespace.
func checkSelector(fault, selector string) error {
	sel, err := labels.Parse(selector)
	if err != nil {
		return fmt.Errorf("native: %s: selector %q: %w", fault, selector, err)
	}
	if sel.Empty() {
		return fmt.Errorf("native: %s: selector must not be empty (it would match every pod in the namespace)", fault)
	}
	return nil
}

// checkName validates the name of an object the fault changes.
func checkName(fault, field, name string) error {
	if name == "" {
		return fmt.Errorf("native: %s: %s must not be empty", fault, field)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("native: %s: %s %q: %s", fault, field, name, errs[0])
	}
	return nil
}

// podRef names a pod by UID as well as by name, because a replacement can
// reuse the name (StatefulSets do) and must not be mistaken for the target.
type podRef struct {
	Name string
	UID  types.UID
}

// listPods lists the pods matching selector, in the API server's order (by
// name), which keeps commands and errors deterministic.
func listPods(ctx context.Context, client kubernetes.Interface, ns, selector string) ([]*corev1.Pod, error) {
	list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %q in %s: %w", selector, ns, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}

// readyPods lists the Ready pods matching selector: the pods that serve
// traffic, which are the ones a fault must hit for the drill to mean
// anything.
func readyPods(ctx context.Context, client kubernetes.Interface, ns, selector string) ([]*corev1.Pod, error) {
	pods, err := listPods(ctx, client, ns, selector)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(pods, func(p *corev1.Pod) bool { return !kube.PodReady(p) }), nil
}

// errNoReadyPods says that a fault found nothing to act on, which would
// otherwise confirm an onset that never happened.
func errNoReadyPods(fault, ns, selector string) error {
	return fmt.Errorf("native: %s: no Ready pod matches %q in %s", fault, selector, ns)
}

// refs returns the pods' names and UIDs.
func refs(pods []*corev1.Pod) []podRef {
	out := make([]podRef, len(pods))
	for i, p := range pods {
		out[i] = podRef{Name: p.Name, UID: p.UID}
	}
	return out
}

// byUID indexes the pods by UID.
func byUID(pods []*corev1.Pod) map[types.UID]*corev1.Pod {
	m := make(map[types.UID]*corev1.Pod, len(pods))
	for _, p := range pods {
		m[p.UID] = p
	}
	return m
}

// container returns the named container of a pod spec, or nil.
func container(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

// appOf returns the app container of a Deployment's pod template.
func appOf(fault string, d *appsv1.Deployment) (*corev1.Container, error) {
	c := container(&d.Spec.Template.Spec, appContainer)
	if c == nil {
		return nil, fmt.Errorf("native: %s: deployment %s/%s has no container %q", fault, d.Namespace, d.Name, appContainer)
	}
	return c, nil
}

// podSelector returns a Deployment's pod selector as a string for WaitPods
// and List.
func podSelector(d *appsv1.Deployment) (string, error) {
	if d.Spec.Selector == nil {
		return "", fmt.Errorf("deployment %s/%s has no selector", d.Namespace, d.Name)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("deployment %s/%s selector: %w", d.Namespace, d.Name, err)
	}
	if sel.Empty() {
		return "", fmt.Errorf("deployment %s/%s has an empty selector", d.Namespace, d.Name)
	}
	return sel.String(), nil
}

// appPatch is a strategic merge patch of the app container of a pod
// template. Containers merge by name, so the patch leaves every other field
// and container as it is.
func appPatch(fields map[string]any) map[string]any {
	c := map[string]any{"name": appContainer}
	maps.Copy(c, fields)
	return map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{c},
	}}}}
}
