package native

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/firedrill-dev/firedrill/faults"
)

// ConfigDriftFault changes keys of a ConfigMap under a running app, the way
// a hand edit or a half-applied config change does. What the drift breaks
// depends on how the app reads its config; the fault only guarantees that
// the API serves the drifted values.
type ConfigDriftFault struct {
	client    kubernetes.Interface
	ns        string
	configMap string
	data      map[string]string

	mu       sync.Mutex
	injected bool
	original map[string]string
}

var _ faults.Fault = (*ConfigDriftFault)(nil)

// ConfigDrift returns a config-drift fault that merges data into the
// ConfigMap configMap of ns.
func ConfigDrift(client kubernetes.Interface, ns, configMap string, data map[string]string) (*ConfigDriftFault, error) {
	const fault = "config-drift"
	if err := checkCommon(fault, client, ns); err != nil {
		return nil, err
	}
	if err := checkName(fault, "configMap", configMap); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("native: config-drift: data must not be empty")
	}
	for _, k := range slices.Sorted(maps.Keys(data)) {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return nil, fmt.Errorf("native: config-drift: data key %q: %s", k, errs[0])
		}
	}
	return &ConfigDriftFault{client: client, ns: ns, configMap: configMap, data: maps.Clone(data)}, nil
}

// Name implements faults.Fault.
func (f *ConfigDriftFault) Name() string { return "config-drift" }

// Backend implements faults.Fault.
func (f *ConfigDriftFault) Backend() string { return backend }

// Inject remembers the ConfigMap's data, merges in the drift, and confirms
// onset by reading the ConfigMap back: the drifted values under a new
// resourceVersion. A drift that would change nothing is an error, because
// it could not be told apart from no fault at all.
func (f *ConfigDriftFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cms := f.client.CoreV1().ConfigMaps(f.ns)
	cm, err := cms.Get(ctx, f.configMap, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("native: config-drift: get configmap %s/%s: %w", f.ns, f.configMap, err)
	}
	if f.holdsDrift(cm.Data) {
		return time.Time{}, fmt.Errorf("native: config-drift: configmap %s/%s already holds the drifted values", f.ns, f.configMap)
	}
	if !f.injected {
		f.original = maps.Clone(cm.Data)
		f.injected = true
	}
	patch, err := json.Marshal(map[string]any{"data": f.data})
	if err != nil {
		return time.Time{}, fmt.Errorf("native: config-drift: %w", err)
	}
	if _, err := cms.Patch(ctx, f.configMap, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("native: config-drift: patch configmap %s/%s: %w", f.ns, f.configMap, err)
	}
	return f.confirm(ctx, cm.ResourceVersion)
}

// confirm reads the ConfigMap back and returns when it was seen drifted.
func (f *ConfigDriftFault) confirm(ctx context.Context, before string) (time.Time, error) {
	cm, err := f.client.CoreV1().ConfigMaps(f.ns).Get(ctx, f.configMap, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("native: config-drift: read configmap %s/%s back: %w", f.ns, f.configMap, err)
	}
	at := time.Now()
	if cm.ResourceVersion == before || !f.holdsDrift(cm.Data) {
		return time.Time{}, fmt.Errorf("native: config-drift: configmap %s/%s does not hold the drift after the patch (resourceVersion %s, was %s)",
			f.ns, f.configMap, cm.ResourceVersion, before)
	}
	return at, nil
}

// holdsDrift reports whether data has every drifted key at its drifted
// value.
func (f *ConfigDriftFault) holdsDrift(data map[string]string) bool {
	for k, v := range f.data {
		if got, ok := data[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Recover puts the original data back exactly, so that keys the drift added
// are removed too. It updates with the resourceVersion it read, retried on
// conflict. A ConfigMap that is gone has nothing left to recover.
func (f *ConfigDriftFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.injected {
		return nil
	}
	cms := f.client.CoreV1().ConfigMaps(f.ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, f.configMap, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if maps.Equal(cm.Data, f.original) {
			return nil
		}
		cm.Data = maps.Clone(f.original)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("native: config-drift: recover: restore configmap %s/%s: %w", f.ns, f.configMap, err)
	}
	return nil
}

// Verify checks that the ConfigMap's data equals what it was before Inject.
func (f *ConfigDriftFault) Verify(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.injected {
		return nil
	}
	cm, err := f.client.CoreV1().ConfigMaps(f.ns).Get(ctx, f.configMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("native: config-drift: verify: get configmap %s/%s: %w", f.ns, f.configMap, err)
	}
	if !maps.Equal(cm.Data, f.original) {
		return fmt.Errorf("native: config-drift: verify: configmap %s/%s differs from the original at key(s) %v",
			f.ns, f.configMap, changedKeys(cm.Data, f.original))
	}
	return nil
}

// changedKeys lists, sorted, the keys that a and b do not hold alike.
func changedKeys(a, b map[string]string) []string {
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
