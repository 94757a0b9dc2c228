// Package kubetest holds the helpers that unit tests of several packages
// share: a bounded test context and a fake clientset.
package kubetest

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// Timeout bounds every wait on a fake clientset, so a bug cannot hang a test.
const Timeout = 30 * time.Second

// Context returns the test's context bounded by Timeout.
func Context(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// FakeClient returns a fake clientset holding objects. The watch-based
// waits of internal/kube keep the client's watch-list semantics, so the
// fake works with them as it is.
func FakeClient(t *testing.T, objects ...runtime.Object) *fake.Clientset {
	t.Helper()
	return fake.NewClientset(objects...)
}
