package cluster

import (
	"fmt"
	"net/http"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ReadOnly returns a copy of c whose clients send only reads (GET, HEAD):
// any other request fails before it leaves, naming it. `firedrill plan`
// uses it, so that a plan cannot write even by mistake.
func (c *Cluster) ReadOnly() (*Cluster, error) {
	cfg := rest.CopyConfig(c.REST)
	wrap := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if wrap != nil {
			rt = wrap(rt)
		}
		return readOnly{rt}
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	out := *c
	out.REST, out.Client = cfg, client
	return &out, nil
}

type readOnly struct{ next http.RoundTripper }

func (t readOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, fmt.Errorf("read-only client: refusing %s %s", r.Method, r.URL.Path)
	}
	return t.next.RoundTrip(r)
}
