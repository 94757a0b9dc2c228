package chaosmesh

import (
	"context"
	"fmt"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NewClient returns a controller-runtime client that knows the Chaos Mesh
// types, so chaos objects are created from typed chaos-mesh/api values.
func NewClient(cfg *rest.Config) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// Object is a chaos object with the status conditions the fault reads.
type Object interface {
	client.Object
	GetStatus() *v1alpha1.ChaosStatus
}

// Chaos is a fault carried by one Chaos Mesh object. Onset is confirmed
// when Chaos Mesh reports AllInjected and the data-plane check (Confirm)
// passes; the object's creation alone proves nothing.
type Chaos struct {
	// Client creates and watches the object (see NewClient).
	Client client.Client
	// Object is the chaos object to create, e.g. from PodKill.
	Object Object
	// FaultName names the fault in reports, e.g. "pod-kill".
	FaultName string
	// Confirm checks the fault's effect on the data plane after AllInjected.
	Confirm func(ctx context.Context) error
	// FinalizerWait bounds the wait for the object to go after delete
	// before its finalizers are removed by force (default 15s).
	FinalizerWait time.Duration

	forced bool
}

// pollEvery is how often a chaos object's status is read.
const pollEvery = 250 * time.Millisecond

// Name implements faults.Fault.
func (c *Chaos) Name() string { return c.FaultName }

// Backend implements faults.Fault.
func (c *Chaos) Backend() string { return "chaosmesh" }

// ForcedCleanup reports whether Recover had to remove stuck finalizers.
func (c *Chaos) ForcedCleanup() bool { return c.forced }

// Inject implements faults.Fault.
func (c *Chaos) Inject(ctx context.Context) (time.Time, error) {
	if err := c.Client.Create(ctx, c.Object); err != nil {
		return time.Time{}, fmt.Errorf("create %s: %w", c.describe(), err)
	}
	if err := c.awaitCondition(ctx, v1alpha1.ConditionAllInjected); err != nil {
		return time.Time{}, err
	}
	if c.Confirm != nil {
		if err := c.Confirm(ctx); err != nil {
			return time.Time{}, fmt.Errorf("%s injected but its effect is not seen: %w", c.describe(), err)
		}
	}
	return time.Now(), nil
}

// AppliedBy is when Chaos Mesh says it had applied the fault to its first
// target: its first successful apply event, whose timestamp is truncated to
// the second, plus one second. Zero when no such event is recorded.
func (c *Chaos) AppliedBy() time.Time {
	exp := c.Object.GetStatus().Experiment
	var first time.Time
	for _, r := range exp.Records {
		for _, e := range r.Events {
			if e.Operation == v1alpha1.Apply && e.Type == v1alpha1.TypeSucceeded && e.Timestamp != nil &&
				(first.IsZero() || e.Timestamp.Time.Before(first)) {
				first = e.Timestamp.Time
			}
		}
	}
	if first.IsZero() {
		return first
	}
	return first.Add(time.Second)
}

func (c *Chaos) describe() string {
	return fmt.Sprintf("%T %s/%s", c.Object, c.Object.GetNamespace(), c.Object.GetName())
}

// awaitCondition polls the object until the condition is true. A Get error
// ends the wait: it is reported, not swallowed.
func (c *Chaos) awaitCondition(ctx context.Context, want v1alpha1.ChaosConditionType) error {
	key := client.ObjectKeyFromObject(c.Object)
	err := wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		if err := c.Client.Get(ctx, key, c.Object); err != nil {
			return false, err
		}
		return hasCondition(c.Object.GetStatus(), want), nil
	})
	if err != nil {
		return fmt.Errorf("%s never reached %s (conditions %v): %w", c.describe(), want, c.Object.GetStatus().Conditions, err)
	}
	return nil
}

func hasCondition(st *v1alpha1.ChaosStatus, want v1alpha1.ChaosConditionType) bool {
	for _, cond := range st.Conditions {
		if cond.Type == want {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Recover implements faults.Fault: delete the object and wait until it is
// gone; when its finalizer is stuck past FinalizerWait, remove the
// finalizers by force and say so through ForcedCleanup.
func (c *Chaos) Recover(ctx context.Context) error {
	if err := c.Client.Delete(ctx, c.Object); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", c.describe(), err)
	}
	limit := c.FinalizerWait
	if limit == 0 {
		limit = 15 * time.Second
	}
	waitCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := c.awaitGone(waitCtx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if !wait.Interrupted(err) {
		return err
	}
	c.forced = true
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
	if err := c.Client.Patch(ctx, c.Object, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove stuck finalizers of %s: %w", c.describe(), err)
	}
	return c.awaitGone(ctx)
}

func (c *Chaos) awaitGone(ctx context.Context) error {
	key := client.ObjectKeyFromObject(c.Object)
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		err := c.Client.Get(ctx, key, c.Object)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// Verify implements faults.Fault: the chaos object must be gone.
func (c *Chaos) Verify(ctx context.Context) error {
	err := c.Client.Get(ctx, client.ObjectKeyFromObject(c.Object), c.Object)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%s is still there (finalizers %v)", c.describe(), c.Object.GetFinalizers())
}
