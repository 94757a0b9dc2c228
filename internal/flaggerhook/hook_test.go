package flaggerhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// canary answers 500 to every request after failFrom, as version v2.
func canary(t *testing.T, failFrom int64) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-App-Version", "v2")
		if n.Add(1) > failFrom {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("version=v2\n"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, h http.Handler, path string, p Payload) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body))))
	return rec
}

func record(t *testing.T, h http.Handler) Record {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathRecord, nil))
	var r Record
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("record: %v: %s", err, rec.Body)
	}
	return r
}

func gatePayload(url string) Payload {
	return Payload{Name: "app", Namespace: "drill-x", Phase: "Progressing", Metadata: map[string]string{
		MetaURL: url, MetaRequests: "10", MetaMaxErrorRatio: "0.2", MetaVersionHeader: "X-App-Version"}}
}

func TestGateFailsACanaryOverTheLimit(t *testing.T) {
	h := New().Handler()
	got := post(t, h, PathGate, gatePayload(canary(t, 7).URL))
	if got.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", got.Code, got.Body)
	}
	if want := "canary error ratio 0.30 (3 of 10 test requests"; !strings.Contains(got.Body.String(), want) {
		t.Errorf("answer %q, want it to contain %q", got.Body, want)
	}
	r := record(t, h)
	if len(r.Checks) != 1 {
		t.Fatalf("%d checks recorded, want 1", len(r.Checks))
	}
	c := r.Checks[0]
	if c.Passed || c.Failed != 3 || c.Versions["v2"] != 10 || c.FirstFailed.IsZero() || c.FirstFailed.Before(c.Start) || c.End.Before(c.FirstFailed) {
		t.Errorf("check %+v: want 3 failed of 10 by v2, first failure within the check", c)
	}
}

func TestGatePassesACanaryWithinTheLimit(t *testing.T) {
	h := New().Handler()
	got := post(t, h, PathGate, gatePayload(canary(t, 8).URL))
	if got.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", got.Code, got.Body)
	}
	if c := record(t, h).Checks[0]; !c.Passed || c.Failed != 2 || !c.FirstFailed.After(c.Start) {
		t.Errorf("check %+v: want passed with 2 failed", c)
	}
}

func TestGateCountsNoAnswerAsFailed(t *testing.T) {
	srv := canary(t, 0)
	srv.Close()
	got := post(t, New().Handler(), PathGate, gatePayload(srv.URL))
	if got.Code != http.StatusInternalServerError || !strings.Contains(got.Body.String(), "10 of 10") {
		t.Fatalf("status %d %q, want 500 with 10 of 10 failed", got.Code, got.Body)
	}
}

func TestGateRefusesBadMetadata(t *testing.T) {
	for _, meta := range []map[string]string{
		{},
		{MetaURL: "http://x", MetaRequests: "0"},
		{MetaURL: "http://x", MetaMaxErrorRatio: "2"},
	} {
		got := post(t, New().Handler(), PathGate, Payload{Metadata: meta})
		if got.Code != http.StatusBadRequest {
			t.Errorf("metadata %v: status %d, want 400", meta, got.Code)
		}
	}
}

func TestEventsKeepFlaggersTimestamp(t *testing.T) {
	h := New().Handler()
	at := time.UnixMilli(time.Now().Add(-time.Second).UnixMilli())
	p := Payload{Name: "app", Phase: "Failed", Metadata: map[string]string{
		"eventMessage": "Canary failed! Scaling down app.drill-x", "eventType": "Warning",
		"timestamp": strconv.FormatInt(at.UnixMilli(), 10)}}
	if got := post(t, h, PathEvent, p); got.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202", got.Code)
	}
	e := record(t, h).Events[0]
	if !e.At.Equal(at) || e.Message != "Canary failed! Scaling down app.drill-x" || e.Type != "Warning" || e.Phase != "Failed" || e.Received.Before(at) {
		t.Errorf("event %+v: want Flagger's time %s and message kept", e, at)
	}
}
