package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// maxOutage bounds a calibration outage, so that a typo such as "3h" cannot
// leave a cluster broken long after the drill gave up.
const maxOutage = 10 * time.Minute

// maxKnobsBody bounds the body of POST /admin/knobs.
const maxKnobsBody = 64 << 10

// knobsView is the JSON form of the knobs in the admin API.
type knobsView struct {
	ErrorRatio    float64 `json:"errorRatio"`
	Latency       string  `json:"latency"`
	FailReadiness bool    `json:"failReadiness"`
	// Outage is present only while an outage is in progress.
	Outage *outageView `json:"outage,omitempty"`
}

// outageView is the JSON form of an outage, in UTC wall-clock time, for the
// drill to put on its timeline.
type outageView struct {
	Start string  `json:"start"`
	End   string  `json:"end"`
	Ratio float64 `json:"ratio"`
}

func newOutageView(o outage) outageView {
	return outageView{
		Start: o.Start.UTC().Format(time.RFC3339Nano),
		End:   o.End.UTC().Format(time.RFC3339Nano),
		Ratio: o.Ratio,
	}
}

// adminHandler serves the admin port, which the Service does not expose, so
// user traffic cannot reach the fault knobs.
func (a *app) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+appcontract.PathKnobs, a.getKnobs)
	mux.HandleFunc("POST "+appcontract.PathKnobs, a.postKnobs)
	mux.HandleFunc("POST "+appcontract.PathOutage, a.postOutage)
	mux.HandleFunc("GET "+appcontract.PathFlags, a.serveFlags)
	return mux
}

func (a *app) getKnobs(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.knobsView())
}

func (a *app) knobsView() knobsView {
	settings, out := a.knobs.snapshot()
	v := knobsView{
		ErrorRatio:    settings.ErrorRatio,
		Latency:       settings.Latency.String(),
		FailReadiness: settings.FailReadiness,
	}
	if out.active(time.Now()) {
		ov := newOutageView(out)
		v.Outage = &ov
	}
	return v
}

// postKnobs changes the knobs present in the body and answers with all of
// them.
func (a *app) postKnobs(w http.ResponseWriter, r *http.Request) {
	u, err := decodeKnobUpdate(w, r)
	if err == nil {
		_, err = a.knobs.apply(u)
	}
	if err != nil {
		http.Error(w, "bad knobs: "+err.Error(), http.StatusBadRequest)
		return
	}
	v := a.knobsView()
	a.logger.Info("knobs changed", "errorRatio", v.ErrorRatio, "latency", v.Latency, "failReadiness", v.FailReadiness)
	writeJSON(w, http.StatusOK, v)
}

// decodeKnobUpdate rejects unknown fields and trailing data: a misspelt knob
// that was silently ignored would make a drill test the wrong fault.
func decodeKnobUpdate(w http.ResponseWriter, r *http.Request) (knobUpdate, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxKnobsBody))
	dec.DisallowUnknownFields()
	var u knobUpdate
	if err := dec.Decode(&u); err != nil {
		return knobUpdate{}, err
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return knobUpdate{}, errors.New("want a single JSON object")
	}
	return u, nil
}

// postOutage starts a calibration outage: every user request (or the given
// ratio of them) fails for the given duration, then the app recovers by
// itself. The drill compares what its
// observer saw with the start and end in the answer.
func (a *app) postOutage(w http.ResponseWriter, r *http.Request) {
	d, err := parseOutageDuration(r.URL.Query().Get(appcontract.OutageDuration))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ratio, err := parseOutageRatio(r.URL.Query().Get(appcontract.OutageRatio))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v := newOutageView(a.knobs.startOutage(d, ratio))
	a.logger.Info("outage started", "duration", d, "ratio", ratio, "start", v.Start, "end", v.End)
	writeJSON(w, http.StatusOK, v)
}

// parseOutageRatio reads the share of requests an outage fails; empty means
// every request.
func parseOutageRatio(s string) (float64, error) {
	if s == "" {
		return 1, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || !(r > 0 && r <= 1) {
		return 0, fmt.Errorf("bad outage ratio %q: want a number above 0 and at most 1", s)
	}
	return r, nil
}

func parseOutageDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxOutage {
		return 0, fmt.Errorf("bad outage duration %q: want a Go duration above 0 and at most %s", s, maxOutage)
	}
	return d, nil
}
