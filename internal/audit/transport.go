package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Transport records every write that goes through it into Log, and passes
// reads and upgraded connections (exec, port-forward) through untouched.
type Transport struct {
	Next http.RoundTripper
	Log  *Log
}

// Wrap is a rest.Config WrapTransport that records into log.
func Wrap(log *Log) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return &Transport{Next: next, Log: log} }
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	verb := verbOf(req)
	if verb == "" {
		return t.Next.RoundTrip(req)
	}
	ref := ParsePath(req.URL.Path)
	e := Entry{At: time.Now(), Source: SourceFiredrill, Verb: verb, Ref: ref, Why: WhyOf(req.Context())}
	e.RVBefore = t.before(req, ref)
	resp, err := t.Next.RoundTrip(req)
	if err != nil {
		e.Error = err.Error()
		t.Log.Add(e)
		return resp, err
	}
	e.Status = resp.StatusCode
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		e.Error = rerr.Error()
	}
	meta := metaOf(body)
	if resp.StatusCode >= 300 {
		e.Error = firstNonEmpty(meta.Message, http.StatusText(resp.StatusCode))
	} else if !ref.proxied() {
		e.RVAfter = meta.Metadata.ResourceVersion
		if e.Ref.Name == "" && verb == "create" {
			e.Ref.Name = meta.Metadata.Name
		}
	}
	t.Log.Add(e)
	return resp, nil
}

// verbOf names a write, or returns "" for a read, a watch or an upgrade.
func verbOf(req *http.Request) string {
	if strings.EqualFold(req.Header.Get("Connection"), "upgrade") || req.Header.Get("Upgrade") != "" {
		return ""
	}
	ref := ParsePath(req.URL.Path)
	switch req.Method {
	case http.MethodPost:
		if ref.Subresource != "" && ref.Name != "" {
			return "post"
		}
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if ref.Name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	return ""
}

// before is the object's resourceVersion before the write: the one an
// update carries, or, for a patch or delete, the one a GET reads.
func (t *Transport) before(req *http.Request, ref Ref) string {
	if ref.Name == "" || ref.proxied() {
		return ""
	}
	switch req.Method {
	case http.MethodPut:
		if req.GetBody == nil {
			return ""
		}
		body, err := req.GetBody()
		if err != nil {
			return ""
		}
		defer body.Close()
		raw, _ := io.ReadAll(body)
		return metaOf(raw).Metadata.ResourceVersion
	case http.MethodPatch, http.MethodDelete:
		get, err := http.NewRequestWithContext(req.Context(), http.MethodGet, objectURL(req), nil)
		if err != nil {
			return ""
		}
		get.Header = req.Header.Clone()
		get.Header.Del("Content-Type")
		resp, err := t.Next.RoundTrip(get)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return ""
		}
		return metaOf(raw).Metadata.ResourceVersion
	}
	return ""
}

// objectURL is the request's URL without subresource or query: the object.
func objectURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery = ""
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	ref := ParsePath(u.Path)
	if ref.Subresource != "" {
		segs = segs[:len(segs)-len(strings.Split(ref.Subresource, "/"))]
	}
	u.Path = "/" + strings.Join(segs, "/")
	return u.String()
}

type objectMeta struct {
	Metadata struct {
		Name            string `json:"name"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Message string `json:"message"`
}

func metaOf(body []byte) objectMeta {
	var m objectMeta
	_ = json.Unmarshal(body, &m)
	return m
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ParsePath names the object an API path refers to: /api/v1/... or
// /apis/<group>/<version>/..., namespaced or not, with any subresource
// (status, scale, proxy/...).
func ParsePath(path string) Ref {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var r Ref
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		r.Group, segs = segs[1], segs[3:]
	default:
		return Ref{Resource: path}
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		r.Namespace, segs = segs[1], segs[2:]
	}
	if len(segs) > 0 {
		r.Resource = segs[0]
	}
	if len(segs) > 1 {
		r.Name = segs[1]
	}
	if len(segs) > 2 {
		r.Subresource = strings.Join(segs[2:], "/")
	}
	return r
}

// proxied says the request goes through the API server to a pod or
// Service: it changes the app, not an object.
func (r Ref) proxied() bool {
	return r.Subresource == "proxy" || strings.HasPrefix(r.Subresource, "proxy/")
}
