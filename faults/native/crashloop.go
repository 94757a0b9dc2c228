package native

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// crashEnv is the sample app's knob that makes it exit with an error at
// start, so every pod of the rolled-out template crash-loops.
const crashEnv = appcontract.EnvCrashOnStart

// CrashLoopConfigFault rolls a Deployment to a config its app cannot start
// with, the way a bad flag or a missing setting does: the image is fine, the
// pods crash-loop.
type CrashLoopConfigFault struct {
	client     kubernetes.Interface
	ns         string
	deployment string

	mu       sync.Mutex
	injected bool
	original []corev1.EnvVar
}

var _ faults.Fault = (*CrashLoopConfigFault)(nil)

// CrashLoopConfig returns a crashloop fault that sets CRASH_ON_START=true on
// the app container of deployment in ns.
func CrashLoopConfig(client kubernetes.Interface, ns, deployment string) (*CrashLoopConfigFault, error) {
	const fault = "crashloop"
	if err := checkCommon(fault, client, ns); err != nil {
		return nil, err
	}
	if err := checkName(fault, "deployment", deployment); err != nil {
		return nil, err
	}
	return &CrashLoopConfigFault{client: client, ns: ns, deployment: deployment}, nil
}

// Name implements faults.Fault.
func (f *CrashLoopConfigFault) Name() string { return "crashloop" }

// Backend implements faults.Fault.
func (f *CrashLoopConfigFault) Backend() string { return backend }

// Inject remembers the app container's env, merges in CRASH_ON_START=true,
// and confirms onset when a pod with that setting has exited with an error.
// Only such pods count, so an old crash of the previous template cannot
// confirm a fault that has not reached a node.
func (f *CrashLoopConfigFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dep, err := f.client.AppsV1().Deployments(f.ns).Get(ctx, f.deployment, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("native: crashloop: get deployment %s/%s: %w", f.ns, f.deployment, err)
	}
	c, err := appOf(f.Name(), dep)
	if err != nil {
		return time.Time{}, err
	}
	if !f.injected {
		f.original = slices.Clone(c.Env)
		f.injected = true
	}
	selector, err := podSelector(dep)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: crashloop: %w", err)
	}
	if err := f.setCrash(ctx); err != nil {
		return time.Time{}, err
	}
	at, err := kube.WaitPods(ctx, f.client, f.ns, selector, crashed)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: crashloop: confirm a pod with %s=true exited with an error: %w", crashEnv, err)
	}
	return at, nil
}

// setCrash merges the variable into the env list, which the strategic merge
// patch keys by name, leaving the other variables as they are.
func (f *CrashLoopConfigFault) setCrash(ctx context.Context) error {
	patch, err := json.Marshal(appPatch(map[string]any{
		"env": []any{map[string]any{"name": crashEnv, "value": "true"}},
	}))
	if err != nil {
		return fmt.Errorf("native: crashloop: %w", err)
	}
	_, err = f.client.AppsV1().Deployments(f.ns).Patch(ctx, f.deployment, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("native: crashloop: set %s=true on %s/%s: %w", crashEnv, f.ns, f.deployment, err)
	}
	return nil
}

// crashed holds when a pod that has the crash setting has a container that
// exited non-zero, now or in its last run.
func crashed(pods []*corev1.Pod) (bool, error) {
	for _, p := range pods {
		if !crashSet(p) {
			continue
		}
		for _, s := range p.Status.ContainerStatuses {
			if _, ok := kube.Crashed(s); ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// crashSet reports whether a pod's app container runs with the crash knob.
func crashSet(p *corev1.Pod) bool {
	c := container(&p.Spec, appContainer)
	if c == nil {
		return false
	}
	return slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == crashEnv && e.Value == "true" })
}

// Recover puts the original env list back as it was, rather than deleting
// the variable, so that a CRASH_ON_START the Deployment had before (set to
// false, say) survives. It updates with the resourceVersion it read, retried
// on conflict, so that a concurrent change by the machinery is not lost.
func (f *CrashLoopConfigFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.injected {
		return nil
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := f.client.AppsV1().Deployments(f.ns).Get(ctx, f.deployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		c, err := appOf(f.Name(), dep)
		if err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(c.Env, f.original) {
			return nil
		}
		c.Env = slices.Clone(f.original)
		_, err = f.client.AppsV1().Deployments(f.ns).Update(ctx, dep, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("native: crashloop: recover: restore env of %s/%s: %w", f.ns, f.deployment, err)
	}
	return nil
}

// Verify checks that the app container's env is the original list.
func (f *CrashLoopConfigFault) Verify(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.injected {
		return nil
	}
	dep, err := f.client.AppsV1().Deployments(f.ns).Get(ctx, f.deployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("native: crashloop: verify: get deployment %s/%s: %w", f.ns, f.deployment, err)
	}
	c, err := appOf(f.Name(), dep)
	if err != nil {
		return err
	}
	if !equality.Semantic.DeepEqual(c.Env, f.original) {
		return fmt.Errorf("native: crashloop: verify: env of %s/%s is %s, want %s", f.ns, f.deployment, envString(c.Env), envString(f.original))
	}
	return nil
}

// envString renders an env list as NAME=value pairs for an error message.
func envString(env []corev1.EnvVar) string {
	parts := make([]string, len(env))
	for i, e := range env {
		parts[i] = e.Name + "=" + e.Value
		if e.ValueFrom != nil {
			parts[i] = e.Name + "=<valueFrom>"
		}
	}
	return fmt.Sprintf("%v", parts)
}
