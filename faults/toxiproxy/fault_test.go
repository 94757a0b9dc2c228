package toxiproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/faults"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeToxiproxy stands in for the Toxiproxy API of several pods, served
// under /{pod}/...: the toxic routes of Toxiproxy v2.5.0 with its status
// codes and error bodies.
type fakeToxiproxy struct {
	mu      sync.Mutex
	toxics  map[string][]Toxic // pod → toxics of proxy "app"
	fail    map[string]int     // pod → status every call gets
	posted  []string           // bodies of POSTs
	calls   []string           // "METHOD /pod/path"
	proxies []string           // proxy names that exist
}

func newFakeToxiproxy(t *testing.T) (*fakeToxiproxy, api) {
	f := &fakeToxiproxy{toxics: map[string][]Toxic{}, fail: map[string]int{}, proxies: []string{ProxyName}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{pod}/proxies/{proxy}/toxics", f.handle(f.index))
	mux.HandleFunc("POST /{pod}/proxies/{proxy}/toxics", f.handle(f.create))
	mux.HandleFunc("DELETE /{pod}/proxies/{proxy}/toxics/{toxic}", f.handle(f.delete))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, httpAPI{base: srv.URL, client: srv.Client()}
}

func (f *fakeToxiproxy) handle(h func(w http.ResponseWriter, r *http.Request, pod string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		pod := r.PathValue("pod")
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		if code := f.fail[pod]; code != 0 {
			apiErr(w, "injected failure", code)
			return
		}
		if !slices.Contains(f.proxies, r.PathValue("proxy")) {
			apiErr(w, "proxy not found", http.StatusNotFound)
			return
		}
		h(w, r, pod)
	}
}

func apiErr(w http.ResponseWriter, msg string, code int) {
	http.Error(w, fmt.Sprintf(`{"error":%q,"status":%d}`, msg, code), code)
}

func (f *fakeToxiproxy) index(w http.ResponseWriter, _ *http.Request, pod string) {
	_ = json.NewEncoder(w).Encode(append([]Toxic{}, f.toxics[pod]...))
}

func (f *fakeToxiproxy) create(w http.ResponseWriter, r *http.Request, pod string) {
	raw, _ := io.ReadAll(r.Body)
	f.posted = append(f.posted, string(raw))
	var toxic Toxic
	if err := json.Unmarshal(raw, &toxic); err != nil {
		apiErr(w, "bad request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if slices.ContainsFunc(f.toxics[pod], func(t Toxic) bool { return t.Name == toxic.Name }) {
		apiErr(w, "toxic already exists", http.StatusConflict)
		return
	}
	f.toxics[pod] = append(f.toxics[pod], toxic)
	_ = json.NewEncoder(w).Encode(toxic)
}

func (f *fakeToxiproxy) delete(w http.ResponseWriter, r *http.Request, pod string) {
	n := len(f.toxics[pod])
	f.toxics[pod] = slices.DeleteFunc(f.toxics[pod], func(t Toxic) bool { return t.Name == r.PathValue("toxic") })
	if len(f.toxics[pod]) == n {
		apiErr(w, "toxic not found", http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeToxiproxy) names(pod string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, t := range f.toxics[pod] {
		names = append(names, t.Name)
	}
	return names
}

// httpAPI is the test transport: plain HTTP to the fake, pod in the path.
type httpAPI struct {
	base   string
	client *http.Client
}

func (h httpAPI) do(ctx context.Context, pod, method, path string, body []byte) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, h.base+"/"+pod+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return raw, resp.StatusCode, err
}

type podOpt func(*corev1.Pod)

func withoutSidecar(p *corev1.Pod) {
	p.Spec.InitContainers = nil
	p.Status.InitContainerStatuses = nil
}
func terminating(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Now()} }
func pending(p *corev1.Pod) {
	p.Status.Phase = corev1.PodPending
	p.Status.InitContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
}

// versionOf is the version label of the pods of each side of the canary.
var versionOf = map[string]string{"canary": "v2", "stable": "v1"}

// testPod is a running pod of the app on a track, with the sidecar unless an
// option removes it.
func testPod(name, track string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: canary.Namespace, Labels: map[string]string{"app": "app", "version": versionOf[track]}},
		Spec:       corev1.PodSpec{InitContainers: []corev1.Container{Sidecar(testImage)}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{{
				Name: ContainerName, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// latencyFault builds a latency fault on the canary wired to the fake.
func latencyFault(t *testing.T, pods ...*corev1.Pod) (*Fault, *fakeToxiproxy) {
	t.Helper()
	client := fake.NewClientset()
	for _, p := range pods {
		if _, err := client.CoreV1().Pods(p.Namespace).Create(t.Context(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Latency(client, canary, 300*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, a := newFakeToxiproxy(t)
	f.api = a
	return f, srv
}

func TestInjectRecoverVerify(t *testing.T) {
	f, srv := latencyFault(t, testPod("canary-a", "canary"), testPod("canary-b", "canary"), testPod("stable-a", "stable", withoutSidecar))
	before := time.Now()
	onset, err := f.Inject(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if onset.Before(before) || onset.After(time.Now()) {
		t.Errorf("onset %s is not the instant of confirmation", onset)
	}
	for _, pod := range []string{"canary-a", "canary-b"} {
		if got := srv.names(pod); !slices.Equal(got, []string{"firedrill-latency"}) {
			t.Errorf("%s toxics %v, want firedrill-latency", pod, got)
		}
	}
	if got := srv.names("stable-a"); len(got) != 0 {
		t.Errorf("stable pod got toxics %v", got)
	}
	wantCalls := []string{
		"POST /canary-a/proxies/app/toxics", "POST /canary-b/proxies/app/toxics",
		"GET /canary-a/proxies/app/toxics", "GET /canary-b/proxies/app/toxics",
	}
	if !slices.Equal(srv.calls, wantCalls) {
		t.Errorf("calls %q, want %q", srv.calls, wantCalls)
	}
	err = f.Verify(t.Context())
	if err == nil || !strings.Contains(err.Error(), "pod canary-a still has toxic(s) firedrill-latency") {
		t.Errorf("Verify while injected: %v, want the leftover toxic named", err)
	}

	for range 2 { // Recover is idempotent: the second one meets 404s
		if err := f.Recover(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for _, pod := range []string{"canary-a", "canary-b"} {
		if got := srv.names(pod); len(got) != 0 {
			t.Errorf("%s toxics after Recover: %v", pod, got)
		}
	}
	if err := f.Verify(t.Context()); err != nil {
		t.Errorf("Verify after Recover: %v", err)
	}
}

func TestInjectIsRetryable(t *testing.T) {
	f, srv := latencyFault(t, testPod("canary-a", "canary"))
	for range 2 {
		if _, err := f.Inject(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.names("canary-a"); len(got) != 1 {
		t.Errorf("toxics after two Injects: %v, want one", got)
	}
}

func TestInjectRefusesADifferentToxicOfTheSameName(t *testing.T) {
	f, srv := latencyFault(t, testPod("canary-a", "canary"))
	srv.toxics["canary-a"] = []Toxic{{Name: "firedrill-latency", Type: "latency", Stream: Downstream, Toxicity: 1, Attributes: map[string]int64{"latency": 9000, "jitter": 0}}}
	_, err := f.Inject(t.Context())
	if err == nil || !strings.Contains(err.Error(), "pod canary-a has it as firedrill-latency (downstream latency map[jitter:0 latency:9000])") {
		t.Fatalf("Inject over a different toxic: %v", err)
	}
}

func TestInjectRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pods  []*corev1.Pod
		setup func(*fakeToxiproxy)
		want  string
	}{
		{"no pods", nil, nil, `no running pod matches "app=app,version=v2" in drill-toxi-1`},
		{"only terminating pods", []*corev1.Pod{testPod("canary-a", "canary", terminating)}, nil, "no running pod matches"},
		{"pod without sidecar", []*corev1.Pod{testPod("canary-a", "canary"), testPod("canary-b", "canary", withoutSidecar)}, nil,
			"pod canary-b has no toxiproxy sidecar: it would escape the fault"},
		{"sidecar not running", []*corev1.Pod{testPod("canary-a", "canary", pending)}, nil, "pod canary-a: toxiproxy sidecar is not running (pod Pending)"},
		{"proxy missing", []*corev1.Pod{testPod("canary-a", "canary")}, func(s *fakeToxiproxy) { s.proxies = nil },
			"pod canary-a: POST /proxies/app/toxics: 404 Not Found: proxy not found"},
		{"API failure", []*corev1.Pod{testPod("canary-a", "canary")}, func(s *fakeToxiproxy) { s.fail["canary-a"] = http.StatusServiceUnavailable },
			"pod canary-a: POST /proxies/app/toxics: 503 Service Unavailable: injected failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := latencyFault(t, tc.pods...)
			if tc.setup != nil {
				tc.setup(srv)
			}
			_, err := f.Inject(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Inject: %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestRecoverWithoutInject(t *testing.T) {
	f, _ := latencyFault(t, testPod("canary-a", "canary"), testPod("canary-b", "canary", pending))
	if err := f.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverReportsFailuresButNotOnTerminatingPods(t *testing.T) {
	f, srv := latencyFault(t, testPod("canary-a", "canary"), testPod("canary-b", "canary", terminating))
	srv.fail["canary-a"] = http.StatusInternalServerError
	srv.fail["canary-b"] = http.StatusBadGateway
	err := f.Recover(t.Context())
	if err == nil || !strings.Contains(err.Error(), "pod canary-a: DELETE /proxies/app/toxics/firedrill-latency: 500") {
		t.Fatalf("Recover: %v, want canary-a's failure", err)
	}
	if strings.Contains(err.Error(), "canary-b") {
		t.Errorf("Recover reported the terminating pod: %v", err)
	}
}

func TestVerifyOnlyCountsHarnessToxics(t *testing.T) {
	f, srv := latencyFault(t, testPod("canary-a", "canary"))
	srv.toxics["canary-a"] = []Toxic{{Name: "someone-elses", Type: "latency", Stream: Downstream, Toxicity: 1}}
	if err := f.Verify(t.Context()); err != nil {
		t.Fatalf("Verify with a foreign toxic: %v", err)
	}
	srv.toxics["canary-a"] = append(srv.toxics["canary-a"], Toxic{Name: "firedrill-bandwidth", Type: "bandwidth", Stream: Downstream, Toxicity: 1})
	err := f.Verify(t.Context())
	if err == nil || !strings.Contains(err.Error(), "verify toxiproxy-latency: pod canary-a still has toxic(s) firedrill-bandwidth") {
		t.Fatalf("Verify with another fault's toxic left: %v", err)
	}
}

// TestInjectArmsANodeTimer checks that the timer is armed before the first
// toxic goes in, deletes the toxic from each target pod's sidecar by its
// pod IP, and is cancelled by Recover.
func TestInjectArmsANodeTimer(t *testing.T) {
	withIP := func(ip string) podOpt { return func(p *corev1.Pod) { p.Status.PodIP = ip } }
	f, srv := latencyFault(t, testPod("canary-a", "canary", withIP("10.244.0.7")), testPod("canary-b", "canary", withIP("10.244.0.8")))
	var ran []string
	node := func(_ context.Context, args ...string) (string, error) {
		ran = append(ran, strings.Join(args, " "))
		if len(srv.calls) > 0 && len(ran) == 1 {
			t.Errorf("a toxic went in before the timer was armed: %q", srv.calls)
		}
		return "1\n", nil
	}
	f.SetExpiry(faults.Expiry{Run: "r1", After: 20 * time.Second, NodeExec: node})
	if _, err := f.Inject(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 {
		t.Fatalf("node commands after Inject = %q, want one timer", ran)
	}
	for _, ip := range []string{"10.244.0.7", "10.244.0.8"} {
		url := "http://" + ip + ":8474/proxies/app/toxics/firedrill-latency"
		if !strings.Contains(ran[0], "DELETE") || !strings.Contains(ran[0], url) {
			t.Errorf("the timer does not delete the toxic on %s: %s", ip, ran[0])
		}
	}
	if err := f.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 2 || !strings.Contains(ran[1], "pkill") || !strings.Contains(ran[1], "iredrill-expiry:r1:toxiproxy-latency-") {
		t.Errorf("Recover's node commands = %q, want the timer cancelled", ran[1:])
	}
}
