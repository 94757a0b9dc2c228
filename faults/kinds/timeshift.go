package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// TimeShift moves the target's clock by an offset for a while; onset is a
// target pod's own clock, read from the app's /time, off by the offset.
const TimeShift = "time-shift"

// clockPoll is how often the target pods' clocks are read.
const clockPoll = 500 * time.Millisecond

func init() {
	faults.Register(faults.Kind{
		Name:          TimeShift,
		Backends:      []string{ChaosMesh},
		IfHarnessDies: map[string]string{ChaosMesh: ifDiesChaos},
		Fields:        map[string][]faults.Field{ChaosMesh: {faults.FieldTarget, faults.FieldOffset, faults.FieldDuration}},
		Require: func(s faults.Spec) error {
			if s.Offset == 0 || s.Duration <= 0 {
				return errors.New("offset and duration: must be set")
			}
			return nil
		},
		Unavailable: unavailable(crdTimeChaos),
		Build:       buildTimeShift,
	})
}

func buildTimeShift(_ context.Context, env faults.Env, spec faults.Spec, _ string) (faults.Fault, error) {
	obj, err := chaosmesh.TimeShift(chaosMeta(env, TimeShift), chaosTarget(env, spec.Target), spec.Offset, spec.Duration)
	if err != nil {
		return nil, err
	}
	site := env.Site(spec.Target)
	confirm := func(ctx context.Context) error { return awaitClockSkew(ctx, env, site, spec.Offset) }
	return chaos(env, TimeShift, obj, confirm), nil
}

// awaitClockSkew polls the target pods' clocks through the API server's pod
// proxy until one of them is off by at least half the offset, in its direction.
func awaitClockSkew(ctx context.Context, env faults.Env, site faults.Site, offset time.Duration) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, clockPoll, true, func(ctx context.Context) (bool, error) {
		pods, err := env.Client.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: site.Selector})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			skew, err := podClockSkew(ctx, env, p.Name)
			if err != nil {
				last = err.Error()
				continue
			}
			last = fmt.Sprintf("pod %s clock off by %s", p.Name, skew.Round(time.Second))
			if skewMatches(skew, offset) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("clock shift of %s not seen (%s): %w", offset, last, err)
	}
	return nil
}

// skewMatches reports whether a measured skew shows an offset: same sign
// and at least half of it.
func skewMatches(skew, offset time.Duration) bool {
	if offset < 0 {
		return skew <= offset/2
	}
	return skew >= offset/2
}

func podClockSkew(ctx context.Context, env faults.Env, pod string) (time.Duration, error) {
	raw, err := env.Client.CoreV1().RESTClient().Get().
		Namespace(env.Namespace).Resource("pods").Name(fmt.Sprintf("%s:%d", pod, appcontract.UserPort)).
		SubResource("proxy").Suffix(strings.TrimPrefix(appcontract.PathTime, "/")).Do(ctx).Raw()
	if err != nil {
		return 0, fmt.Errorf("read clock of pod %s: %w", pod, err)
	}
	var got struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return 0, fmt.Errorf("clock answer of pod %s: %w", pod, err)
	}
	return time.Until(got.Time), nil
}
