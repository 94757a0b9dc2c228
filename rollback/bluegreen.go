package rollback

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/internal/kube"
)

// BlueGreen is the machinery name of the Service selector switch.
const BlueGreen = "blue-green"

const (
	labelColor = "color"
	blue       = "blue"
	green      = "green"
	// smokeRequests is how many answers green must give, all correct,
	// through its own Service before users are switched to it.
	smokeRequests = 10
)

func init() {
	Register(Spec{
		Name:     BlueGreen,
		Summary:  "blue serves; green is deployed, smoke-checked through its own Service and switched to; rollback flips the Service selector back to warm blue",
		Separate: true,
		Check:    checkSizesItself("blue-green deploys green at blue's replica count"),
		New: func(e Env, p Plan) (Machinery, error) {
			return &blueGreen{base: newBase(BlueGreen, e), blue: p.Stable, green: p.Canary}, nil
		},
	})
}

// blueGreen switches the user Service's selector between two Deployments.
// Blue serves; green is deployed at blue's size, must become Ready and pass
// a smoke check through its own Service, and then the user Service's
// selector moves to it. Blue stays warm.
//
// Decided is the selector flipped back to blue. Actuated is the instant a
// watch sees the user Service's EndpointSlices hold only blue endpoints.
type blueGreen struct {
	base
	blue, green Version
	switched    time.Time
}

func (b *blueGreen) Name() string { return BlueGreen }

func (b *blueGreen) logf(format string, args ...any) { b.w.logf(BlueGreen, format, args...) }

func colorLabels(color string) map[string]string { return appLabels(labelColor, color) }

// previewService is green's own Service, for the smoke check.
func (b *blueGreen) previewService() string { return ownName(green) }

func (b *blueGreen) Placement() Placement {
	return placement(ownDeployment(labelColor, blue), ownDeployment(labelColor, green))
}

func (b *blueGreen) DeployStable(ctx context.Context, stable Version) error {
	if err := b.w.setUp(ctx, colorLabels(blue)); err != nil {
		return err
	}
	return b.deploy(ctx, blue, stable, false)
}

// deploy creates one color's Deployment and waits until all its pods are Ready.
func (b *blueGreen) deploy(ctx context.Context, color string, v Version, canary bool) error {
	v.Replicas = b.blue.Replicas
	dep, err := b.w.deployment(ownName(color), colorLabels(color), v, canary)
	if err != nil {
		return err
	}
	if _, err := b.w.env.Client.AppsV1().Deployments(b.w.env.Namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create %s deployment: %w", color, err)
	}
	b.logf("waiting for %d %s pod(s) of %s", v.Replicas, color, v.Name)
	_, err = kube.WaitPods(ctx, b.w.env.Client, b.w.env.Namespace, where(colorLabels(color), "").Selector, func(pods []*corev1.Pod) (bool, error) {
		return countReady(pods, colorLabels(color)) >= v.Replicas, nil
	})
	if err != nil {
		return fmt.Errorf("%s pods Ready: %w", color, err)
	}
	return nil
}

// StartCanary deploys green, smoke-checks it through its own Service, and
// switches the user Service to it.
func (b *blueGreen) StartCanary(ctx context.Context, canary Version) error {
	client, ns := b.w.env.Client, b.w.env.Namespace
	if _, err := client.CoreV1().Services(ns).Create(ctx, b.w.service(b.previewService(), colorLabels(green)), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create green's service: %w", err)
	}
	if err := b.deploy(ctx, green, canary, true); err != nil {
		return err
	}
	if err := b.smoke(ctx); err != nil {
		return fmt.Errorf("green's smoke check through service %s: %w", b.previewService(), err)
	}
	at, err := b.switchTo(ctx, green)
	if err != nil {
		return err
	}
	b.switched = at
	b.logf("switched users to green (%s) at %s", canary.Name, at.Format(time.TimeOnly))
	return nil
}

// smoke asks green for the user path through the API server's proxy to its
// own Service: every answer must succeed and come from green's version.
func (b *blueGreen) smoke(ctx context.Context) error {
	want := "version=" + b.green.Name
	for i := range smokeRequests {
		raw, err := b.w.env.Client.CoreV1().Services(b.w.env.Namespace).
			ProxyGet("http", b.previewService(), appcontract.UserPortName, "/", nil).DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("request %d of %d: %w", i+1, smokeRequests, err)
		}
		if got := strings.TrimSpace(string(raw)); got != want {
			return fmt.Errorf("request %d of %d answered %q, want %q", i+1, smokeRequests, got, want)
		}
	}
	return nil
}

// switchTo points the user Service at one color and returns when the API
// accepted it.
func (b *blueGreen) switchTo(ctx context.Context, color string) (time.Time, error) {
	patch := fmt.Appendf(nil, `{"spec":{"selector":{%q:%q}}}`, labelColor, color)
	_, err := b.w.env.Client.CoreV1().Services(b.w.env.Namespace).Patch(ctx, App, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return time.Time{}, fmt.Errorf("switch service %s to %s: %w", App, color, err)
	}
	return time.Now(), nil
}

// Serving reads the user Service's selector.
func (b *blueGreen) Serving(ctx context.Context) (Serving, error) {
	svc, err := b.w.env.Client.CoreV1().Services(b.w.env.Namespace).Get(ctx, App, metav1.GetOptions{})
	if err != nil {
		return Serving{}, fmt.Errorf("read service %s: %w", App, err)
	}
	color := svc.Spec.Selector[labelColor]
	s := Serving{Detail: fmt.Sprintf("service %s selects color=%s", App, color)}
	switch color {
	case blue:
		s.Versions = []string{b.blue.Name}
	case green:
		s.Versions = []string{b.green.Name}
	}
	return s, nil
}

func (b *blueGreen) AwaitRollback(ctx context.Context) (Outcome, error) {
	p := b.Placement()
	out, err := b.decide(ctx, p.Canary.Selector, p.Canary.Deployment)
	if err != nil {
		return out, err
	}
	bluePods, err := b.podNames(ctx, p.Stable.Selector)
	if err != nil {
		return out, err
	}
	b.logf("flipping users back to blue: %s", out.Reason)
	if out.Decided, err = b.switchTo(ctx, blue); err != nil {
		return out, err
	}
	var seen string
	out.Actuated, err = kube.WaitEndpointSlices(ctx, b.w.env.Client, b.w.env.Namespace, App, func(slices []*discoveryv1.EndpointSlice) (bool, error) {
		var ok bool
		ok, seen = onlyEndpoints(slices, bluePods)
		return ok, nil
	})
	if err != nil {
		return out, fmt.Errorf("wait for service %s to hold only blue endpoints: %w", App, err)
	}
	out.Actuation = "service " + App + " endpoints hold only blue: " + seen
	out.Evidence = []Evidence{
		{Name: "selector switched to green", Value: b.switched.Format(time.RFC3339Nano)},
		{Name: "selector flipped back", Value: fmt.Sprintf("color=%s → color=%s at %s", green, blue, out.Decided.Format(time.RFC3339Nano))},
		{Name: "endpoints after", Value: seen},
	}
	b.logf("rollback actuated: %s", out.Actuation)
	return out, nil
}

func (b *blueGreen) podNames(ctx context.Context, selector string) (map[string]bool, error) {
	pods, err := b.w.env.Client.CoreV1().Pods(b.w.env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %s: %w", selector, err)
	}
	names := map[string]bool{}
	for _, p := range pods.Items {
		names[p.Name] = true
	}
	return names, nil
}

// onlyEndpoints holds when the slices list at least one ready endpoint and
// every endpoint, ready or not, is one of pods. It also describes them.
func onlyEndpoints(slices []*discoveryv1.EndpointSlice, pods map[string]bool) (bool, string) {
	ready, other := 0, 0
	for _, s := range slices {
		for _, e := range s.Endpoints {
			if e.TargetRef == nil || !pods[e.TargetRef.Name] {
				other++
				continue
			}
			if ptr.Deref(e.Conditions.Ready, false) {
				ready++
			}
		}
	}
	return ready > 0 && other == 0, fmt.Sprintf("%d ready blue endpoint(s), %d other", ready, other)
}

// Creates implements Describer.
func (b *blueGreen) Creates() []string {
	g := b.green
	g.Replicas = b.blue.Replicas
	return append(b.w.objects(), "Deployment "+ownName(blue)+" ("+replicasOf(b.blue)+")",
		"Deployment "+ownName(green)+" ("+replicasOf(g)+")", "Service "+b.previewService()+" (green's smoke check)")
}
