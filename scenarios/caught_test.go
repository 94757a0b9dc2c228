package scenarios_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// jumpyHook is a machinery that lies by acting: the native canary hook,
// except that it rolls back as soon as one canary pod goes unready, a blip
// Kubernetes handles by itself. A steady drill must catch it.
const jumpyHook = "jumpy-canary-hook"

// jumpyReason is what the jumpy hook says when it rolls back.
const jumpyReason = "a canary pod went unready"

func init() {
	hook, err := rollback.Lookup(rollback.CanaryHook)
	if err != nil {
		panic(err)
	}
	rollback.Register(rollback.Spec{
		Name: jumpyHook, Summary: "test machinery: the canary hook, rolling back on any readiness blip",
		Separate: hook.Separate, Check: hook.Check, Share: hook.Share,
		New: func(e rollback.Env, p rollback.Plan) (rollback.Machinery, error) {
			m, err := hook.New(e, p)
			return &jumpy{Machinery: m, env: e}, err
		},
	})
}

type jumpy struct {
	rollback.Machinery
	env rollback.Env
}

func (j *jumpy) Name() string { return jumpyHook }

// AwaitRollback scales the canary to zero once a canary pod that was
// ready goes unready.
func (j *jumpy) AwaitRollback(ctx context.Context) (rollback.Outcome, error) {
	pl := j.Placement()
	wait := func(ready bool) (time.Time, error) {
		return kube.WaitPods(ctx, j.env.Client, j.env.Namespace, pl.Canary.Selector, func(pods []*corev1.Pod) (bool, error) {
			for _, p := range pods {
				if p.Status.Phase == corev1.PodRunning && podReady(p) == ready && p.DeletionTimestamp == nil {
					return true, nil
				}
			}
			return false, nil
		})
	}
	if _, err := wait(true); err != nil {
		return rollback.Outcome{}, err
	}
	decided, err := wait(false)
	if err != nil {
		return rollback.Outcome{}, err
	}
	// A patch, not get-and-update: the Deployment controller updates the
	// status as the pod goes unready, and an update would conflict.
	patch := []byte(`{"spec":{"replicas":0}}`)
	if _, err := j.env.Client.AppsV1().Deployments(j.env.Namespace).Patch(ctx, pl.Canary.Deployment, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return rollback.Outcome{}, fmt.Errorf("scale the canary to 0: %w", err)
	}
	return rollback.Outcome{DetectedBy: rollback.DetectedByKubernetes, Reason: jumpyReason, Decided: decided,
		Actuated: time.Now(), Actuation: "scaled the canary to 0"}, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// steadyRolledBackAnyway is canary-unready under the jumpy hook: service
// never suffers, yet the machinery removes a healthy canary.
var steadyRolledBackAnyway = func() drills.Scenario {
	s := scenarios.CanaryUnready
	s.Name, s.Machinery = "steady-rolled-back-anyway", jumpyHook
	s.Labels = append([]string{scenarios.LabelCaught}, s.Labels...)
	return s
}()

// describeCaught runs a steady drill under a machinery that rolls back
// anyway, and asserts the exact verdict: fail, because it rolled back, for
// the reason it gave.
func describeCaught(s drills.Scenario, repeat int) {
	describeDrill(s, repeat, func(d **drills.Drill) {
		It("fails the drill because the machinery rolled back", func(ctx SpecContext) {
			Expect((*d).ConfirmRestored(ctx)).To(Succeed())
			r := (*d).Result()
			Expect(r.Verdict).To(Equal(reports.VerdictFail))
			Expect(r.Why).To(HavePrefix("steady drill, but the machinery rolled back at t0+"))
			Expect(r.Why).To(HaveSuffix(fmt.Sprintf("(%s: %s)", rollback.DetectedByKubernetes, jumpyReason)))
			Expect(r).NotTo(drills.KeepTheCanary())
			Expect(r.Serving.Versions).To(Equal([]string{s.Stable.Name}), "the canary is gone: %s", r.Serving.Detail)
			Expect(r.Breached).To(BeFalse(), "users never saw the blip")
		}, NodeTimeout(timeouts.Restore))
	})
}
