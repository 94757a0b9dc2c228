package toxiproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/expiry"
)

// Fault adds one toxic to the proxy of every target pod. It implements
// faults.Fault with the "native" backend.
type Fault struct {
	name     string
	target   Target
	selector string
	toxic    Toxic
	client   kubernetes.Interface
	api      api
	expiry   faults.Expiry
}

var _ faults.Expiring = (*Fault)(nil)

// SetExpiry implements faults.Expiring.
func (f *Fault) SetExpiry(e faults.Expiry) { f.expiry = e }

// ExpiresBy implements faults.Expiring.
func (f *Fault) ExpiresBy() string {
	switch {
	case f.expiry.After <= 0:
		return "nothing: no expiry set; the toxic goes when firedrill cleanup deletes the pods"
	case f.expiry.NodeExec == nil:
		return "nothing here: no node access; the toxic goes when firedrill cleanup deletes the pods"
	}
	return fmt.Sprintf("a timer in its own session on a node deletes the toxic through each sidecar's API %s after injection", f.expiry.After)
}

func (f *Fault) armed() bool { return f.expiry.After > 0 && f.expiry.NodeExec != nil }

func (f *Fault) marker() string {
	return expiry.Marker(f.expiry.Run, f.name+"-"+f.target.Namespace)
}

// arm starts the node timer that deletes the toxic from every target pod
// once the expiry is past. The node reaches each sidecar's API on the pod
// network, without the API server.
func (f *Fault) arm(ctx context.Context, pods []*corev1.Pod) error {
	if !f.armed() {
		return nil
	}
	var undo [][]string
	for _, p := range pods {
		if p.Status.PodIP == "" {
			return fmt.Errorf("arm expiry: pod %s has no IP yet", p.Name)
		}
		url := fmt.Sprintf("http://%s/proxies/%s/toxics/%s", net.JoinHostPort(p.Status.PodIP, strconv.Itoa(PortAPI)), ProxyName, f.toxic.Name)
		undo = append(undo, []string{"curl", "-s", "-m", "5", "-X", "DELETE", url})
	}
	return expiry.Start(ctx, expiry.Shell(f.expiry.NodeExec), f.marker(), f.expiry.After, undo...)
}

// Name implements faults.Fault, e.g. "toxiproxy-latency".
func (f *Fault) Name() string { return f.name }

// Backend implements faults.Fault.
func (f *Fault) Backend() string { return "native" }

// Toxic is the toxic the fault adds, for reports.
func (f *Fault) Toxic() Toxic { return f.toxic }

func (f *Fault) toxicsPath() string { return "/proxies/" + ProxyName + "/toxics" }

// Inject adds the toxic to every target pod, then reads each pod's toxics
// back and returns once all of them list it: that is the confirmed onset on
// the proxies. Whether users feel it is for the drill's observer to confirm.
// The node timer that deletes the toxic should the harness die is armed
// before the first toxic goes in.
// Every non-terminating target pod must run the sidecar; a pod without it
// would silently escape the fault. A toxic already present with the same
// settings is accepted, so Inject can be retried.
func (f *Fault) Inject(ctx context.Context) (time.Time, error) {
	pods, err := f.pods(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var targets []string
	var live []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		live = append(live, p)
		if !HasSidecar(&p.Spec) {
			return time.Time{}, fmt.Errorf("pod %s has no %s sidecar: it would escape the fault", p.Name, ContainerName)
		}
		if !sidecarRunning(p) {
			return time.Time{}, fmt.Errorf("pod %s: %s sidecar is not running (pod %s)", p.Name, ContainerName, p.Status.Phase)
		}
		targets = append(targets, p.Name)
	}
	if len(targets) == 0 {
		return time.Time{}, fmt.Errorf("no running pod matches %q in %s", f.selector, f.target.Namespace)
	}
	body, err := json.Marshal(f.toxic)
	if err != nil {
		return time.Time{}, fmt.Errorf("encode toxic %s: %w", f.toxic.Name, err)
	}
	if err := f.arm(ctx, live); err != nil {
		return time.Time{}, err
	}
	for _, pod := range targets {
		if err := f.add(ctx, pod, body); err != nil {
			return time.Time{}, err
		}
	}
	for _, pod := range targets {
		if err := f.confirm(ctx, pod); err != nil {
			return time.Time{}, err
		}
	}
	return time.Now(), nil
}

// add creates the toxic on one pod; a conflict is left to confirm, which
// accepts an identical toxic and refuses a different one.
func (f *Fault) add(ctx context.Context, pod string, body []byte) error {
	path := f.toxicsPath()
	raw, code, err := f.api.do(ctx, pod, http.MethodPost, path, body)
	switch {
	case err != nil:
		return err
	case code == http.StatusOK || code == http.StatusCreated || code == http.StatusConflict:
		return nil
	}
	return &apiError{Pod: pod, Method: http.MethodPost, Path: path, Status: code, Body: string(raw)}
}

// confirm reads the pod's toxics back and checks that the fault's toxic is
// among them with the fault's settings.
func (f *Fault) confirm(ctx context.Context, pod string) error {
	toxics, err := f.list(ctx, pod)
	if err != nil {
		return fmt.Errorf("confirm %s: %w", f.toxic.Name, err)
	}
	i := slices.IndexFunc(toxics, func(t Toxic) bool { return t.Name == f.toxic.Name })
	if i < 0 {
		return fmt.Errorf("confirm %s: pod %s does not list it after it was added", f.toxic.Name, pod)
	}
	if !toxics[i].same(f.toxic) {
		return fmt.Errorf("confirm %s: pod %s has it as %s, want %s", f.toxic.Name, pod, toxics[i], f.toxic)
	}
	return nil
}

// list returns the toxics of the pod's proxy.
func (f *Fault) list(ctx context.Context, pod string) ([]Toxic, error) {
	path := f.toxicsPath()
	raw, code, err := f.api.do(ctx, pod, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, &apiError{Pod: pod, Method: http.MethodGet, Path: path, Status: code, Body: string(raw)}
	}
	var toxics []Toxic
	if err := json.Unmarshal(raw, &toxics); err != nil {
		return nil, fmt.Errorf("pod %s: decode %s: %w", pod, path, err)
	}
	return toxics, nil
}

// Recover cancels the expiry timer and removes the toxic from every target
// pod whose sidecar runs. A
// toxic already gone (404) is success, so Recover is idempotent and safe
// after a failed or missing Inject. Failures on terminating pods are
// ignored: their proxy, and the toxic with it, is going away.
func (f *Fault) Recover(ctx context.Context) error {
	pods, err := f.pods(ctx)
	if err != nil {
		return err
	}
	var errs []error
	if f.armed() {
		if _, err := expiry.Cancel(ctx, expiry.Shell(f.expiry.NodeExec), f.marker()); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range pods {
		if !HasSidecar(&p.Spec) || !sidecarRunning(p) {
			continue
		}
		path := f.toxicsPath() + "/" + f.toxic.Name
		raw, code, err := f.api.do(ctx, p.Name, http.MethodDelete, path, nil)
		switch {
		case p.DeletionTimestamp != nil:
		case err != nil:
			errs = append(errs, err)
		case code != http.StatusNoContent && code != http.StatusOK && code != http.StatusNotFound:
			errs = append(errs, &apiError{Pod: p.Name, Method: http.MethodDelete, Path: path, Status: code, Body: string(raw)})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover %s: %w", f.toxic.Name, err)
	}
	return nil
}

// Verify checks that no harness toxic (any named ToxicPrefix*, not only this
// fault's) is left on a running target pod.
func (f *Fault) Verify(ctx context.Context) error {
	pods, err := f.pods(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range pods {
		if p.DeletionTimestamp != nil || !HasSidecar(&p.Spec) || !sidecarRunning(p) {
			continue
		}
		toxics, err := f.list(ctx, p.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var left []string
		for _, t := range toxics {
			if strings.HasPrefix(t.Name, ToxicPrefix) {
				left = append(left, t.Name)
			}
		}
		if len(left) > 0 {
			errs = append(errs, fmt.Errorf("pod %s still has toxic(s) %s", p.Name, strings.Join(left, ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("verify %s: %w", f.name, err)
	}
	return nil
}

// pods lists the target pods in name order.
func (f *Fault) pods(ctx context.Context) ([]*corev1.Pod, error) {
	list, err := f.client.CoreV1().Pods(f.target.Namespace).List(ctx, metav1.ListOptions{LabelSelector: f.selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %q in %s: %w", f.selector, f.target.Namespace, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return pods, nil
}

// sidecarRunning reports whether the pod's sidecar container is running, so
// that its API can answer.
func sidecarRunning(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, s := range p.Status.InitContainerStatuses {
		if s.Name == ContainerName {
			return s.State.Running != nil
		}
	}
	return false
}

// LeftToxics lists, as namespace/pod: toxic, every harness toxic on a
// running sidecar anywhere in the cluster: after a crash, what a sweep must
// have removed.
func LeftToxics(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	list, err := client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	var left []string
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil || !HasSidecar(&p.Spec) || !sidecarRunning(p) {
			continue
		}
		f := &Fault{api: newPodProxy(client, p.Namespace)}
		toxics, err := f.list(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		for _, t := range toxics {
			if strings.HasPrefix(t.Name, ToxicPrefix) {
				left = append(left, p.Namespace+"/"+p.Name+": "+t.Name)
			}
		}
	}
	return left, nil
}
