package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	for path, want := range map[string]Ref{
		"/api/v1/namespaces":                                          {Resource: "namespaces"},
		"/api/v1/namespaces/drill-x":                                  {Resource: "namespaces", Name: "drill-x"},
		"/api/v1/namespaces/drill-x/services/app":                     {Resource: "services", Namespace: "drill-x", Name: "app"},
		"/apis/apps/v1/namespaces/drill-x/deployments/app/scale":      {Group: "apps", Resource: "deployments", Namespace: "drill-x", Name: "app", Subresource: "scale"},
		"/apis/argoproj.io/v1alpha1/namespaces/d/rollouts/app/status": {Group: "argoproj.io", Resource: "rollouts", Namespace: "d", Name: "app", Subresource: "status"},
		"/api/v1/namespaces/d/pods/p-1:9090/proxy/admin/knobs":        {Resource: "pods", Namespace: "d", Name: "p-1:9090", Subresource: "proxy/admin/knobs"},
		"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x":   {Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "x"},
	} {
		if got := ParsePath(path); got != want {
			t.Errorf("ParsePath(%q) = %+v, want %+v", path, got, want)
		}
	}
}

// apiServer answers like the API server for one ConfigMap "c" at
// resourceVersion 7, which every write moves to 8.
func apiServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj := func(rv string) {
			_ = json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]any{"name": "c", "resourceVersion": rv}})
		}
		switch {
		case strings.Contains(r.URL.Path, "/proxy/"):
			_, _ = io.WriteString(w, "ok")
		case strings.HasSuffix(r.URL.Path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"kind":"Status","message":"configmaps \"missing\" not found"}`)
		case r.Method == http.MethodGet:
			obj("7")
		case r.Method == http.MethodDelete:
			_, _ = io.WriteString(w, `{"kind":"Status","status":"Success"}`)
		default:
			obj("8")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTransportRecordsEveryWrite(t *testing.T) {
	srv := apiServer(t)
	log := &Log{}
	client := &http.Client{Transport: Wrap(log)(http.DefaultTransport)}
	ctx := WithWhy(WithWhy(context.Background(), "deploy stable"), "create config")
	base := srv.URL + "/api/v1/namespaces/d/configmaps"
	do := func(method, url, body string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// The caller still reads the whole body.
		if b, _ := io.ReadAll(resp.Body); len(b) == 0 {
			t.Errorf("%s %s: body consumed by the transport", method, url)
		}
		resp.Body.Close()
	}
	do(http.MethodGet, base+"/c", "")
	do(http.MethodPost, base, `{"metadata":{"name":"c"}}`)
	do(http.MethodPut, base+"/c", `{"metadata":{"name":"c","resourceVersion":"7"}}`)
	do(http.MethodPatch, base+"/c", `{"data":{"a":"b"}}`)
	do(http.MethodDelete, base+"/c", "")
	do(http.MethodPost, srv.URL+"/api/v1/namespaces/d/pods/p:9090/proxy/admin/knobs", `{}`)
	do(http.MethodPatch, base+"/missing", `{}`)
	got := log.Entries()
	want := []struct{ verb, name, before, after, err string }{
		{"create", "c", "", "8", ""},
		{"update", "c", "7", "8", ""},
		{"patch", "c", "7", "8", ""},
		{"delete", "c", "7", "", ""},
		{"post", "p:9090", "", "", ""},
		{"patch", "missing", "", "", `configmaps "missing" not found`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d (the GET is not a write): %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Verb != w.verb || e.Ref.Name != w.name || e.RVBefore != w.before || e.RVAfter != w.after || e.Error != w.err || e.Why != "deploy stable: create config" || e.Source != SourceFiredrill {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	if n := len(log.Writes()); n != 5 {
		t.Errorf("Writes() has %d entries, want the 5 that succeeded", n)
	}
}

func TestWriteReadTimeline(t *testing.T) {
	srv := apiServer(t)
	log := &Log{}
	client := &http.Client{Transport: Wrap(log)(http.DefaultTransport)}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/apis/apps/v1/namespaces/d/deployments", strings.NewReader("{}"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	log.Add(Entry{At: log.Entries()[0].At.Add(1500e6), Source: SourceWatch, Verb: "MODIFIED", Manager: "kube-controller-manager", Operation: "Update",
		Ref: Ref{Group: "apps", Resource: "replicasets", Namespace: "d", Name: "c-1"}, RVAfter: "9", Detail: "replicas 0"})
	path := t.TempDir() + "/" + FileName
	if err := log.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := Read(bytes.NewReader(raw))
	if err != nil || len(entries) != 2 {
		t.Fatalf("Read = %d entries, %v; want 2", len(entries), err)
	}
	var out strings.Builder
	Timeline(&out, entries)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.Contains(lines[0], "t0  +0.000s  create    firedrill d: deployments.apps/c  rv -→8") {
		t.Errorf("line 1 %q", lines[0])
	}
	if !strings.Contains(lines[1], "t0  +1.500s  modified  watch: kube-controller-manager (Update) d: replicasets.apps/c-1  rv -→9  replicas 0") {
		t.Errorf("line 2 %q", lines[1])
	}
	if _, err := Read(strings.NewReader("{not json\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Read of a broken line: %v, want an error naming line 1", err)
	}
}
