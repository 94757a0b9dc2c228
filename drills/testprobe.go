package drills

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// testProbeTimeout bounds one test request through the API server's proxy.
const testProbeTimeout = 2 * time.Second

// howTestProbe says how a test-traffic onset is bracketed.
const howTestProbe = "between the last test request the canary did not answer and its first failed answer"

// confirmTestErrors sends test requests, every pollEvery, to the
// machinery's test Service through the API server's proxy (not the user
// path: users never reach this canary), and marks onset at the canary
// version's first failed answer. The canary may have begun failing as soon
// as it answered anything, so the bound reaches back to the last request
// it did not answer.
func (d *Drill) confirmTestErrors(ctx context.Context) error {
	svc := d.machinery.Placement().Test
	if svc == "" || d.cluster.REST == nil {
		return fmt.Errorf("onset %q: the %s machinery has no test Service, or the drill no API access", OnsetCanaryTestErrors, d.machinery.Name())
	}
	client, err := rest.HTTPClientFor(d.cluster.REST)
	if err != nil {
		return fmt.Errorf("test requests: %w", err)
	}
	url := fmt.Sprintf("%s/api/v1/namespaces/%s/services/%s:%s/proxy/", strings.TrimSuffix(d.cluster.REST.Host, "/"), d.Namespace, svc, appcontract.UserPortName)
	canary := d.Scenario.Canary.Name
	notYet, _ := d.event(EventCanaryStarted)
	return wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		sent := time.Now()
		version, status, err := testGet(ctx, client, url)
		answered := time.Now()
		switch {
		case err != nil || version != canary:
			notYet = sent
			return false, nil
		case status < http.StatusInternalServerError:
			return false, nil
		}
		d.mark(EventOnset, answered, Bound{Before: answered.Sub(notYet), How: howTestProbe},
			fmt.Sprintf("canary %s answered status %d to a test request through Service %s (not the user path)", canary, status, svc))
		return true, nil
	})
}

// testGet sends one test request and returns the version that answered
// and its status.
func testGet(ctx context.Context, client *http.Client, url string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, testProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get(appcontract.VersionHeader), resp.StatusCode, nil
}

// canaryUnseen counts the user answers the canary gave from its start on,
// under a machinery that gives users none of it, and says why any breaks
// the drill.
func (d *Drill) canaryUnseen(samples []Sample) (unseen, seen string) {
	start, _ := d.event(EventCanaryStarted)
	canary := d.Scenario.Canary.Name
	total, served := 0, 0
	for _, s := range samples {
		if s.At.Before(start) {
			continue
		}
		total++
		if s.Version == canary {
			served++
		}
	}
	unseen = fmt.Sprintf("%s answered %d of %d user requests from its start on", canary, served, total)
	if served > 0 {
		seen = fmt.Sprintf("users saw %s although %s gives them none of the canary: %s", canary, d.Scenario.MachineryName(), unseen)
	}
	return unseen, seen
}
