package kube

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Follow opens the watch again from the last resourceVersion when the
// server closes it, and from a fresh list after an error event.
func TestFollowReopens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var opened []string
	seen := make(chan string, 10)
	open := func(_ context.Context, rv string) (watch.Interface, error) {
		opened = append(opened, rv)
		w := watch.NewFake()
		go func() {
			switch len(opened) {
			case 1:
				w.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", ResourceVersion: "5"}})
			case 2:
				w.Error(&metav1.Status{Code: 410})
			default:
				w.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b", ResourceVersion: "9"}})
				<-ctx.Done()
			}
			w.Stop()
		}()
		return w, nil
	}
	go Follow(ctx, open, func(ev watch.Event) string {
		p := ev.Object.(*corev1.Pod)
		seen <- p.Name
		return p.ResourceVersion
	})
	for _, want := range []string{"a", "b"} {
		if got := <-seen; got != want {
			t.Fatalf("saw %s, want %s", got, want)
		}
	}
	cancel()
	if len(opened) != 3 || opened[0] != "" || opened[1] != "5" || opened[2] != "" {
		t.Errorf("opened from %q, want \"\", 5, then \"\" after the error", opened)
	}
}
