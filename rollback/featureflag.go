package rollback

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// FeatureFlag is the machinery name of the flag kill switch.
const FeatureFlag = "feature-flag"

// BackendFlagServer is the flag server image the feature-flag machinery
// runs in each drill namespace; a suite loads it only when a drill needs it.
const BackendFlagServer = "flag-server"

// FlagSourceVolume, as a feature-flag drill's MachineryConfig name, makes
// the flag server read its flags from the ConfigMap mounted as a volume,
// the slow way, instead of through the API.
const FlagSourceVolume = "configmap-volume"

// FlagShare is the share of users the flag turns the new path on for, as
// the canary.
const FlagShare = 25

// newPathEnv maps a canary version's fault knobs to the new path's: the
// canary is the same binary with the flag on.
var newPathEnv = map[string]string{
	appcontract.EnvErrorRatio: appcontract.EnvNewPathErrorRatio,
	appcontract.EnvLatency:    appcontract.EnvNewPathLatency,
}

func init() {
	Register(Spec{
		Name:    FeatureFlag,
		Summary: fmt.Sprintf("one Deployment evaluates %s through OpenFeature and a GO Feature Flag relay proxy; the canary is the flag on for %d%% of users, the kill switch turns it off", appcontract.FlagKey, FlagShare),
		Needs:   []string{BackendFlagServer},
		Check:   checkFlagPlan,
		Share:   func(Plan) float64 { return FlagShare / 100.0 },
		New: func(e Env, p Plan) (Machinery, error) {
			if e.FlagServerImage == "" {
				return nil, fmt.Errorf("%s machinery: no flag server image (FIREDRILL_FLAG_SERVER_IMAGE; run through make)", FeatureFlag)
			}
			return &featureFlag{base: newBase(FeatureFlag, e), stable: p.Stable, canary: p.Canary, volume: p.Config.Name == FlagSourceVolume}, nil
		},
	})
}

// checkFlagPlan refuses what a flag cannot express: a canary that is
// another image, has replicas of its own, or sets knobs the new path has
// none of.
func checkFlagPlan(p Plan) error {
	switch {
	case p.Canary.Image != "" && p.Canary.Image != p.Stable.Image:
		return fmt.Errorf("canary.image %q: a flag turns on a path of the stable image, not another image", p.Canary.Image)
	case p.Canary.Replicas != 0:
		return fmt.Errorf("canary.replicas %d: the flag's canary runs on the stable pods; want 0", p.Canary.Replicas)
	}
	if p.Config.Name != "" && p.Config.Name != FlagSourceVolume {
		return fmt.Errorf("machineryConfig %q: the flag source is the API (empty) or %q", p.Config.Name, FlagSourceVolume)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Canary.Env)) {
		if _, ok := newPathEnv[k]; !ok {
			return fmt.Errorf("canary.env %s: the new path takes only %s and %s", k, appcontract.EnvErrorRatio, appcontract.EnvLatency)
		}
	}
	return checkDetection(p.Detection, DetectHarness)
}

// featureFlag is the kill switch: one Deployment of the sample app, whose
// pods evaluate the flag through the OpenFeature SDK and the GO Feature
// Flag provider against a relay proxy in the drill namespace. The proxy
// reads the flag configuration from a ConfigMap through the API.
//
// Decided is the flag write acknowledged by the server: the ConfigMap
// written, the proxy told to re-read it, and its change hash moved.
// Actuated is when the last app pod's provider reported
// PROVIDER_CONFIGURATION_CHANGED after that.
type featureFlag struct {
	base
	stable, canary Version
	server         flagServer
	on             int
	// volume reads the flags from a ConfigMap volume (FlagSourceVolume).
	volume bool
}

func (f *featureFlag) Name() string { return FeatureFlag }

func (f *featureFlag) logf(format string, args ...any) { f.w.logf(FeatureFlag, format, args...) }

// Placement: both versions are the same pods, which the flag tells apart
// per request; the flag server is their dependency.
func (f *featureFlag) Placement() Placement {
	w := where(map[string]string{LabelApp: App}, App)
	p := placement(w, w)
	p.Dependency = where(flagServerLabels(), flagServerName)
	return p
}

func (f *featureFlag) DeployStable(ctx context.Context, stable Version) error {
	f.server = flagServer{env: f.w.env, volume: f.volume}
	if err := f.w.setUp(ctx, map[string]string{LabelApp: App}); err != nil {
		return err
	}
	url, err := f.server.create(ctx, flagRollout(0))
	if err != nil {
		return err
	}
	dep, err := f.w.deployment(App, map[string]string{LabelApp: App}, f.withFlag(stable, url), false)
	if err != nil {
		return err
	}
	if _, err := f.w.env.Client.AppsV1().Deployments(f.w.env.Namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create app deployment: %w", err)
	}
	f.logf("waiting for %d pod(s) of %s, flag %s off", stable.Replicas, stable.Name, appcontract.FlagKey)
	_, err = kube.WaitPods(ctx, f.w.env.Client, f.w.env.Namespace, f.Placement().All, func(pods []*corev1.Pod) (bool, error) {
		return countReady(pods, map[string]string{LabelApp: App}) >= stable.Replicas, nil
	})
	return err
}

// withFlag is the stable version with the flag wired in: the server, the
// version the new path reports, and the new path's knobs from the canary.
func (f *featureFlag) withFlag(stable Version, server string) Version {
	v := stable
	v.Env = maps.Clone(stable.Env)
	if v.Env == nil {
		v.Env = map[string]string{}
	}
	v.Env[appcontract.EnvFlagServer] = server
	v.Env[appcontract.EnvFlagKey] = appcontract.FlagKey
	v.Env[appcontract.EnvFlagOnVersion] = f.canary.Name
	for k, val := range f.canary.Env {
		v.Env[newPathEnv[k]] = val
	}
	return v
}

// StartCanary turns the flag on for FlagShare% of users.
func (f *featureFlag) StartCanary(ctx context.Context, canary Version) error {
	ack, err := f.server.write(ctx, flagRollout(FlagShare))
	if err != nil {
		return err
	}
	f.on = FlagShare
	f.logf("flag %s on for %d%% of users (the canary, %s), acknowledged at %s", appcontract.FlagKey, FlagShare, canary.Name, ack.At.Format(time.TimeOnly))
	return nil
}

// Serving reads the flag configuration the server was last told.
func (f *featureFlag) Serving(context.Context) (Serving, error) {
	s := Serving{Versions: []string{f.stable.Name}, Detail: fmt.Sprintf("flag %s on for %d%% of users", appcontract.FlagKey, f.on)}
	if f.on > 0 {
		s.Versions = append(s.Versions, f.canary.Name)
	}
	return s, nil
}

// AwaitRollback waits for the alert, throws the kill switch, and waits for
// every app pod to see it.
func (f *featureFlag) AwaitRollback(ctx context.Context) (Outcome, error) {
	out, err := f.hook.decide(ctx, nil)
	if err != nil {
		return out, err
	}
	f.logf("kill switch at %s: %s", out.Decided.Format(time.TimeOnly), out.Reason)
	ack, err := f.server.write(ctx, flagRollout(0))
	if err != nil {
		return out, err
	}
	f.on = 0
	// A pod may see the flip before the harness's own poll of the server
	// does: the server had acknowledged the write by then.
	seen, err := f.awaitPods(ctx, ack.Written)
	if err != nil {
		return out, err
	}
	out.Decided = ack.At
	if first := seen.first(); first.Before(out.Decided) {
		out.Decided = first
	}
	out.Actuated = seen.last()
	out.Actuation = fmt.Sprintf("every app pod's provider saw the flag off (%d pods)", len(seen))
	out.Evidence = append(ack.evidence(f.volume), seen.evidence(out.Decided)...)
	f.logf("rollback actuated: %s", out.Actuation)
	return out, nil
}

// flagPoll is how often the pods' flag events are read: the pods stamp
// each event themselves, so a slower poll delays only when the harness
// learns of it, not the mark. progressEvery is how often the wait says how
// far it got.
const (
	flagPoll      = 250 * time.Millisecond
	progressEvery = 5 * time.Second
)

// awaitPods waits until every Ready app pod reports a configuration change
// at or after since (the write), and returns when each one saw it. It says
// every few seconds how many have.
func (f *featureFlag) awaitPods(ctx context.Context, since time.Time) (podSightings, error) {
	var seen podSightings
	next := time.Now().Add(progressEvery)
	tick := time.NewTicker(flagPoll)
	defer tick.Stop()
	for {
		pods, err := f.w.env.Client.CoreV1().Pods(f.w.env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: f.Placement().All})
		if err != nil {
			return nil, fmt.Errorf("list app pods: %w", err)
		}
		seen, err = f.sightings(ctx, pods.Items, since)
		if err != nil {
			return nil, err
		}
		ready := countReadyPods(pods.Items)
		if len(seen) > 0 && len(seen) == ready {
			return seen, nil
		}
		if time.Now().After(next) {
			f.logf("%d of %d pod(s) saw the kill switch so far", len(seen), ready)
			next = next.Add(progressEvery)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for every pod to see the kill switch (%d seen): %w", len(seen), ctx.Err())
		case <-tick.C:
		}
	}
}

// sightings asks each Ready pod when its provider saw a change after since.
func (f *featureFlag) sightings(ctx context.Context, pods []corev1.Pod, since time.Time) (podSightings, error) {
	seen := podSightings{}
	for i := range pods {
		p := &pods[i]
		if !kube.PodReady(p) {
			continue
		}
		view, err := podFlags(ctx, f.w.env.Client, f.w.env.Namespace, p.Name)
		if err != nil {
			return nil, err
		}
		if at, ok := view.changedAfter(since); ok {
			seen[p.Name] = at
		}
	}
	return seen, nil
}

func countReadyPods(pods []corev1.Pod) int {
	n := 0
	for i := range pods {
		if kube.PodReady(&pods[i]) {
			n++
		}
	}
	return n
}

// Creates implements Describer.
func (f *featureFlag) Creates() []string {
	return append(f.w.objects(), f.server.describe()...)
}

// flagRollout is the flag configuration with the new path on for percent of
// users (0: off for everyone), in GO Feature Flag's format.
func flagRollout(percent int) string {
	return appcontract.FlagKey + ":\n" +
		"  variations:\n    enabled: true\n    disabled: false\n" +
		"  defaultRule:\n    percentage:\n" +
		"      enabled: " + strconv.Itoa(percent) + "\n      disabled: " + strconv.Itoa(100-percent) + "\n"
}

// flagServerReplicas is the relay proxy's replica count.
var flagServerReplicas = ptr.To(int32(1))
