package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func getKnobsView(t *testing.T, h http.Handler) knobsView {
	t.Helper()
	w := call(h, http.MethodGet, "/admin/knobs", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /admin/knobs = %d, want 200", w.Code)
	}
	var v knobsView
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body, err)
	}
	return v
}

func TestPostKnobsChangesOnlyFieldsPresent(t *testing.T) {
	a := newTestApp(t, knobSettings{ErrorRatio: 0.25})
	admin := a.adminHandler()

	w := call(admin, http.MethodPost, "/admin/knobs", `{"latency":"200ms"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("POST /admin/knobs = %d %q, want 200", w.Code, w.Body)
	}
	want := knobsView{ErrorRatio: 0.25, Latency: "200ms"}
	if got := getKnobsView(t, admin); got != want {
		t.Errorf("knobs = %+v, want %+v", got, want)
	}

	call(admin, http.MethodPost, "/admin/knobs", `{"failReadiness":true,"errorRatio":0}`)
	want = knobsView{ErrorRatio: 0, Latency: "200ms", FailReadiness: true}
	if got := getKnobsView(t, admin); got != want {
		t.Errorf("knobs = %+v, want %+v", got, want)
	}
	if got := call(a.userHandler(), http.MethodGet, "/readyz", "").Code; got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz = %d after failReadiness:true, want 503", got)
	}
}

func TestPostKnobsRejectsBadInput(t *testing.T) {
	bodies := []string{
		``,
		`not json`,
		`{"errorRatio":1.5}`,
		`{"errorRatio":-0.1}`,
		`{"errorRatio":"half"}`,
		`{"latency":"soon"}`,
		`{"latency":"-1s"}`,
		`{"latency":200}`,
		`{"failReadiness":"yes"}`,
		`{"error_ratio":0.5}`,
		`{"latency":"1s"} {"latency":"2s"}`,
	}
	for _, body := range bodies {
		t.Run(body, func(t *testing.T) {
			admin := newTestApp(t, knobSettings{ErrorRatio: 0.1}).adminHandler()
			w := call(admin, http.MethodPost, "/admin/knobs", body)
			if w.Code != http.StatusBadRequest {
				t.Errorf("POST /admin/knobs = %d, want 400", w.Code)
			}
			if msg := strings.TrimSuffix(w.Body.String(), "\n"); msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("message %q, want one line", w.Body)
			}
			want := knobsView{ErrorRatio: 0.1, Latency: "0s"}
			if got := getKnobsView(t, admin); got != want {
				t.Errorf("knobs = %+v after a rejected update, want %+v", got, want)
			}
		})
	}
}

func TestOutageFailsRequestsThenRecovers(t *testing.T) {
	const d = 300 * time.Millisecond
	a := newTestApp(t, knobSettings{})
	user, admin := a.userHandler(), a.adminHandler()

	before := time.Now()
	w := call(admin, http.MethodPost, "/admin/outage?duration="+d.String(), "")
	posted := time.Now()
	if w.Code != http.StatusOK {
		t.Fatalf("POST /admin/outage = %d %q, want 200", w.Code, w.Body)
	}
	checkOutageAnswer(t, w.Body.Bytes(), d)
	if got := getKnobsView(t, admin).Outage; got == nil {
		t.Error("GET /admin/knobs shows no outage during the outage")
	}

	// The outage starts after before, so a request that ends before
	// before+d arrived inside it.
	got := call(user, http.MethodGet, "/", "").Code
	if time.Now().Before(before.Add(d)) && got != http.StatusInternalServerError {
		t.Errorf("GET / during the outage = %d, want 500", got)
	}

	// The outage starts before posted, so it is over after posted+d.
	time.Sleep(time.Until(posted.Add(d + 50*time.Millisecond)))
	if codes := countCodes(t, user, 20); codes[http.StatusOK] != 20 {
		t.Errorf("after the outage: codes %v, want all 200", codes)
	}
	if got := getKnobsView(t, admin).Outage; got != nil {
		t.Errorf("GET /admin/knobs shows outage %+v after it ended", got)
	}
}

// checkOutageAnswer checks that the answer holds RFC 3339 start and end
// times that are d apart.
func checkOutageAnswer(t *testing.T, body []byte, d time.Duration) {
	t.Helper()
	var v outageView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	start, err := time.Parse(time.RFC3339Nano, v.Start)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	end, err := time.Parse(time.RFC3339Nano, v.End)
	if err != nil {
		t.Fatalf("end: %v", err)
	}
	if got := end.Sub(start); got != d {
		t.Errorf("end - start = %s, want %s", got, d)
	}
}

func TestOutageRejectsBadDuration(t *testing.T) {
	admin := newTestApp(t, knobSettings{}).adminHandler()
	for _, q := range []string{"", "?duration=", "?duration=soon", "?duration=0s", "?duration=-1s", "?duration=10m1s"} {
		if got := call(admin, http.MethodPost, "/admin/outage"+q, "").Code; got != http.StatusBadRequest {
			t.Errorf("POST /admin/outage%s = %d, want 400", q, got)
		}
	}
	if got := call(admin, http.MethodPost, "/admin/outage?duration=10m", "").Code; got != http.StatusOK {
		t.Errorf("POST /admin/outage?duration=10m = %d, want 200", got)
	}
}

func TestAdminIsNotOnUserPort(t *testing.T) {
	user := newTestApp(t, knobSettings{}).userHandler()
	if got := call(user, http.MethodPost, "/admin/outage?duration=1s", "").Code; got != http.StatusNotFound {
		t.Errorf("POST /admin/outage on the user port = %d, want 404", got)
	}
}
