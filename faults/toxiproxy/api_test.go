package toxiproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

// TestPodProxy checks the URL, method and body the pod-proxy transport sends
// to the API server, and that it hands back Toxiproxy's status and body
// rather than an error.
func TestPodProxy(t *testing.T) {
	var got struct{ method, path, ctype, body string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		got.method, got.path, got.ctype, got.body = r.Method, r.URL.Path, r.Header.Get("Content-Type"), string(raw)
		if r.Method == http.MethodDelete {
			apiErr(w, "toxic not found", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p := newPodProxy(client, "drill-toxi-1")

	raw, code, err := p.do(t.Context(), "app-v2-x", http.MethodPost, "/proxies/app/toxics", []byte(`{"name":"n"}`))
	if err != nil || code != http.StatusOK || string(raw) != "[]" {
		t.Fatalf("POST: %q %d %v", raw, code, err)
	}
	wantPath := "/api/v1/namespaces/drill-toxi-1/pods/app-v2-x:8474/proxy/proxies/app/toxics"
	if got.method != http.MethodPost || got.path != wantPath || got.body != `{"name":"n"}` || got.ctype != "application/json" {
		t.Errorf("request %+v: want POST %s with the JSON body", got, wantPath)
	}

	raw, code, err = p.do(t.Context(), "app-v2-x", http.MethodDelete, "/proxies/app/toxics/firedrill-latency", nil)
	if err != nil || code != http.StatusNotFound || !strings.Contains(string(raw), "toxic not found") {
		t.Fatalf("DELETE: %q %d %v: want Toxiproxy's 404 and body", raw, code, err)
	}
	if got.path != wantPath+"/firedrill-latency" || got.body != "" {
		t.Errorf("request %+v: want DELETE %s/firedrill-latency without a body", got, wantPath)
	}

	srv.Close()
	if _, code, err := p.do(t.Context(), "app-v2-x", http.MethodGet, "/proxies/app/toxics", nil); err == nil || code != 0 {
		t.Errorf("GET on a closed server: %d %v, want an error and no status", code, err)
	}
}

func TestAPIErrorMessage(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"error":"toxic already exists","status":409}`, "pod p: POST /x: 409 Conflict: toxic already exists"},
		{`{"kind":"Status","message":"pods \"p\" not found","code":404}`, `pod p: POST /x: 409 Conflict: pods "p" not found`},
		{"error trying to reach service: dial tcp 10.0.0.1:8474: connect: connection refused\nmore", "409 Conflict: error trying to reach service: dial tcp 10.0.0.1:8474: connect: connection refused"},
	} {
		got := (&apiError{Pod: "p", Method: http.MethodPost, Path: "/x", Status: http.StatusConflict, Body: tc.body}).Error()
		if !strings.Contains(got, tc.want) {
			t.Errorf("error %q, want %q", got, tc.want)
		}
	}
}

func TestPodProxyWithoutTransport(t *testing.T) {
	p := newPodProxy(fake.NewClientset(), "drill-toxi-1")
	if _, code, err := p.do(t.Context(), "p", http.MethodGet, "/proxies", nil); err == nil || code != 0 {
		t.Errorf("do with a fake clientset: %d %v, want an error", code, err)
	}
}
