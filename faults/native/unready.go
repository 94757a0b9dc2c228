package native

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// adminPort is the sample app's admin port, which the Service does not
// expose; the API server's pod proxy reaches it.
const adminPort = appcontract.AdminPort

// UnreadyFault makes running pods fail their readiness probe through the
// sample app's admin knob, the way a pod whose dependency went away does:
// the pods keep running but leave the Service's endpoints.
type UnreadyFault struct {
	client   kubernetes.Interface
	rest     rest.Interface
	ns       string
	selector string

	mu   sync.Mutex
	pods []podRef
}

var _ faults.Fault = (*UnreadyFault)(nil)

// Unready returns an unready fault on the pods of ns matching selector,
// which must run the sample app.
func Unready(client kubernetes.Interface, ns, selector string) (*UnreadyFault, error) {
	const fault = "unready"
	if err := checkCommon(fault, client, ns); err != nil {
		return nil, err
	}
	if err := checkSelector(fault, selector); err != nil {
		return nil, err
	}
	return &UnreadyFault{client: client, rest: client.CoreV1().RESTClient(), ns: ns, selector: selector}, nil
}

// Name implements faults.Fault.
func (f *UnreadyFault) Name() string { return "unready" }

// Backend implements faults.Fault.
func (f *UnreadyFault) Backend() string { return backend }

// Inject turns readiness off on the Ready pods and confirms onset when the
// kubelet has reported every one of them NotReady, which is when the
// endpoints controller takes them out of the Service.
func (f *UnreadyFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pods, err := readyPods(ctx, f.client, f.ns, f.selector)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: unready: %w", err)
	}
	if len(pods) == 0 {
		return time.Time{}, errNoReadyPods(f.Name(), f.ns, f.selector)
	}
	f.pods = refs(pods)
	for _, p := range f.pods {
		if err := f.setFailReadiness(ctx, p.Name, true); err != nil {
			return time.Time{}, err
		}
	}
	at, err := kube.WaitPods(ctx, f.client, f.ns, f.selector, f.allUnready)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: unready: confirm %d pod(s) NotReady: %w", len(f.pods), err)
	}
	return at, nil
}

// setFailReadiness posts the readiness knob to one pod's admin port.
func (f *UnreadyFault) setFailReadiness(ctx context.Context, pod string, fail bool) error {
	body := `{"failReadiness":` + strconv.FormatBool(fail) + `}`
	err := f.rest.Post().
		Namespace(f.ns).Resource("pods").Name(pod+":"+strconv.Itoa(adminPort)).
		SubResource("proxy").Suffix(appcontract.AdminSegments(appcontract.PathKnobs)...).
		SetHeader("Content-Type", "application/json").
		Body([]byte(body)).
		Do(ctx).Error()
	if err != nil {
		return fmt.Errorf("native: unready: set failReadiness=%t on pod %s/%s: %w", fail, f.ns, pod, err)
	}
	return nil
}

// allUnready holds when every targeted pod that still exists is NotReady.
// A pod that vanished cannot confirm the fault, and if all of them did the
// wait could never end, so that is an error.
func (f *UnreadyFault) allUnready(pods []*corev1.Pod) (bool, error) {
	live := byUID(pods)
	found := 0
	for _, ref := range f.pods {
		p, ok := live[ref.UID]
		if !ok {
			continue
		}
		found++
		if kube.PodReady(p) {
			return false, nil
		}
	}
	if found == 0 {
		return false, fmt.Errorf("every targeted pod is gone")
	}
	return true, nil
}

// Recover turns readiness back on in the targeted pods that still exist and
// waits until they are Ready. Pods deleted since Inject need nothing: their
// replacements start with the knob off.
func (f *UnreadyFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.pods {
		if err := f.setFailReadiness(ctx, p.Name, false); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	if len(f.pods) == 0 {
		return nil
	}
	_, err := kube.WaitPods(ctx, f.client, f.ns, f.selector, func(pods []*corev1.Pod) (bool, error) {
		return len(f.unready(pods)) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("native: unready: recover: wait for pods to be Ready: %w", err)
	}
	return nil
}

// Verify checks that every targeted pod that still exists is Ready.
func (f *UnreadyFault) Verify(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pods) == 0 {
		return nil
	}
	pods, err := listPods(ctx, f.client, f.ns, f.selector)
	if err != nil {
		return fmt.Errorf("native: unready: verify: %w", err)
	}
	if names := f.unready(pods); len(names) > 0 {
		return fmt.Errorf("native: unready: verify: pod(s) %v are not Ready", names)
	}
	return nil
}

// unready names the targeted pods that exist and are not Ready.
func (f *UnreadyFault) unready(pods []*corev1.Pod) []string {
	live := byUID(pods)
	var names []string
	for _, ref := range f.pods {
		if p, ok := live[ref.UID]; ok && !kube.PodReady(p) {
			names = append(names, ref.Name)
		}
	}
	return names
}
