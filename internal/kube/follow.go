package kube

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"
)

// Follow watches until ctx ends, opening the watch again from the last
// resourceVersion seen whenever the server closes it (from a fresh list
// after an error event), and hands every other event to see, which returns
// the event object's resourceVersion. It gives up on a resource the
// cluster does not serve or forbids.
func Follow(ctx context.Context, open func(ctx context.Context, rv string) (watch.Interface, error), see func(watch.Event) string) {
	rv := ""
	for ctx.Err() == nil {
		w, err := open(ctx, rv)
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return
		}
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				// Most often 410 Gone: start again from a fresh list.
				rv = ""
				continue
			}
			if got := see(ev); got != "" {
				rv = got
			}
		}
		w.Stop()
	}
}
