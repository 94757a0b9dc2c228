package native

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	restfake "k8s.io/client-go/rest/fake"
)

// knobProxy stands in for the API server's pod proxy to the sample app's
// admin port. Like the kubelet, it reflects a readiness knob in the pod's
// Ready condition, and it answers 404 for a pod that does not exist.
type knobProxy struct {
	client *fake.Clientset

	// deleteOnFail deletes the pod instead of making it NotReady.
	deleteOnFail bool

	mu    sync.Mutex
	posts []string // "pod failReadiness"
}

func (k *knobProxy) restClient() *restfake.RESTClient {
	return &restfake.RESTClient{
		NegotiatedSerializer: scheme.Codecs.WithoutConversion(),
		GroupVersion:         corev1.SchemeGroupVersion,
		VersionedAPIPath:     "/api/v1",
		Client:               restfake.CreateHTTPClient(k.serve),
	}
}

func (k *knobProxy) serve(req *http.Request) (*http.Response, error) {
	prefix, suffix := "/api/v1/namespaces/"+testNS+"/pods/", ":9090/proxy/admin/knobs"
	pod, ok := strings.CutPrefix(req.URL.Path, prefix)
	pod, ok2 := strings.CutSuffix(pod, suffix)
	if req.Method != http.MethodPost || !ok || !ok2 {
		return nil, fmt.Errorf("unexpected request %s %s", req.Method, req.URL.Path)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		return nil, fmt.Errorf("content type %q, want application/json", ct)
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var knobs map[string]bool
	if err := json.Unmarshal(raw, &knobs); err != nil || len(knobs) != 1 {
		return nil, fmt.Errorf("body %s: want exactly the failReadiness knob", raw)
	}
	fail, ok := knobs["failReadiness"]
	if !ok {
		return nil, fmt.Errorf("body %s: want failReadiness", raw)
	}
	k.mu.Lock()
	k.posts = append(k.posts, fmt.Sprintf("%s %t", pod, fail))
	k.mu.Unlock()
	if fail && k.deleteOnFail {
		err = k.client.CoreV1().Pods(testNS).Delete(req.Context(), pod, metav1.DeleteOptions{})
	} else {
		err = setPodReady(req.Context(), k.client, pod, !fail)
	}
	if apierrors.IsNotFound(err) {
		return response(http.StatusNotFound, fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"pods %q not found"}`, pod)), nil
	}
	if err != nil {
		return nil, err
	}
	return response(http.StatusOK, fmt.Sprintf(`{"errorRatio":0,"latency":"0s","failReadiness":%t}`, fail)), nil
}

func (k *knobProxy) sent() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.posts...)
}

func response(code int, body string) *http.Response {
	return &http.Response{
		StatusCode: code,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

// unreadyFault returns an Unready fault whose admin requests go to a knobProxy.
func unreadyFault(t *testing.T, client *fake.Clientset) (*UnreadyFault, *knobProxy) {
	t.Helper()
	f, err := Unready(client, testNS, stableSel)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &knobProxy{client: client}
	f.rest = proxy.restClient()
	return f, proxy
}

func TestUnreadyLifecycle(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appPod("app-1", true, goodImage), appPod("app-2", true, goodImage), appPod("app-3", false, goodImage))
	f, proxy := unreadyFault(t, client)

	if _, err := f.Inject(ctx); err != nil {
		t.Fatalf("Inject() = %v", err)
	}
	if got, want := proxy.sent(), []string{"app-1 true", "app-2 true"}; !slices.Equal(got, want) {
		t.Errorf("knob posts = %q, want %q", got, want)
	}
	wantErr(t, f.Verify(ctx), "native: unready: verify: pod(s) [app-1 app-2] are not Ready")

	// app-2 is deleted meanwhile; its proxy answers 404, which Recover
	// ignores, and it no longer counts.
	if err := client.CoreV1().Pods(testNS).Delete(ctx, "app-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if got, want := proxy.sent()[2:], []string{"app-1 false", "app-2 false"}; !slices.Equal(got, want) {
		t.Errorf("knob posts in Recover = %q, want %q", got, want)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after Recover = %v", err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
}

func TestUnreadyAllTargetsGone(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appPod("app-1", true, goodImage))
	f, proxy := unreadyFault(t, client)
	// The knob reaches the pod, but the pod is deleted before the kubelet
	// reports it NotReady: onset cannot be confirmed.
	proxy.deleteOnFail = true
	_, err := f.Inject(ctx)
	wantErr(t, err, "native: unready: confirm 1 pod(s) NotReady", "every targeted pod is gone")
}

func TestUnreadyProxyError(t *testing.T) {
	ctx := kubetest.Context(t)
	client := kubetest.FakeClient(t, appPod("app-1", true, goodImage))
	f, err := Unready(client, testNS, stableSel)
	if err != nil {
		t.Fatal(err)
	}
	f.rest = &restfake.RESTClient{
		NegotiatedSerializer: scheme.Codecs.WithoutConversion(),
		GroupVersion:         corev1.SchemeGroupVersion,
		VersionedAPIPath:     "/api/v1",
		Resp:                 response(http.StatusServiceUnavailable, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"no endpoints"}`),
	}
	_, err = f.Inject(ctx)
	wantErr(t, err, "native: unready: set failReadiness=true on pod "+testNS+"/app-1")
}
