package drills

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/reports"
)

// podCounter follows how many of the app's pods exist (terminating ones
// included: they still hold their resources), from the steady state on.
type podCounter struct {
	mu     sync.Mutex
	pods   map[string]bool
	counts []podCount
}

type podCount struct {
	at time.Time
	n  int
}

// countPods watches the app's pods until ctx ends.
func (d *Drill) countPods(ctx context.Context) {
	c := &podCounter{pods: map[string]bool{}}
	d.mu.Lock()
	d.pods = c
	d.mu.Unlock()
	selector := d.machinery.Placement().All
	open := func(ctx context.Context, rv string) (watch.Interface, error) {
		return d.cluster.Client.CoreV1().Pods(d.Namespace).Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: rv})
	}
	go kube.Follow(ctx, open, func(ev watch.Event) string {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return ""
		}
		c.see(ev.Type, p.Name)
		return p.ResourceVersion
	})
}

func (c *podCounter) see(t watch.EventType, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch t {
	case watch.Added, watch.Modified:
		c.pods[name] = true
	case watch.Deleted:
		delete(c.pods, name)
	default:
		return
	}
	c.counts = append(c.counts, podCount{time.Now(), len(c.pods)})
}

// between is the count at from and the most at once in [from, to].
func (c *podCounter) between(from, to time.Time) (at, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pc := range c.counts {
		if !pc.at.After(from) {
			at = pc.n
		}
		if !pc.at.After(to) {
			peak = max(peak, pc.n)
		}
	}
	return at, max(at, peak)
}

// podsDuring is the app's pods when the canary started and at most until
// restored, for the report's resource cost.
func (d *Drill) podsDuring(m Marks) *reports.PodCount {
	d.mu.Lock()
	c := d.pods
	d.mu.Unlock()
	started, ok := d.event(EventCanaryStarted)
	if c == nil || !ok || m.Restored.IsZero() {
		return nil
	}
	at, peak := c.between(started, m.Restored)
	return &reports.PodCount{AtCanary: at, Peak: peak}
}

// badShare is how many user requests the new version answered from
// injection to restored.
func badShare(samples []Sample, canary string, from, to time.Time) *reports.Share {
	s := &reports.Share{}
	for _, x := range samples {
		if inSpan(x, from, to) {
			s.Total++
			if x.Version == canary {
				s.Served++
			}
		}
	}
	if s.Total > 0 {
		s.Fraction = float64(s.Served) / float64(s.Total)
	}
	return s
}
