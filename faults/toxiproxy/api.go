package toxiproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// api reaches the Toxiproxy API of one pod. It returns the response body and
// HTTP status; err is set only when no response came back at all, so callers
// decide which statuses they accept (404 on a delete is success).
type api interface {
	do(ctx context.Context, pod, method, path string, body []byte) ([]byte, int, error)
}

// podProxy reaches the sidecar's API through the API server's pod proxy
// (pods/NAME:8474/proxy/...), so the harness needs no port-forward and no
// route to pod IPs, only the RBAC verb pods/proxy in the drill namespace.
//
// client-go builds the URL and supplies the authenticated HTTP client, but
// the call is made directly: client-go's Result drops the status and body of
// a non-2xx answer that is not JSON, and Toxiproxy's errors are text/plain.
type podProxy struct {
	rest      *rest.RESTClient
	namespace string
}

func newPodProxy(client kubernetes.Interface, namespace string) podProxy {
	rc, _ := client.CoreV1().RESTClient().(*rest.RESTClient)
	return podProxy{rest: rc, namespace: namespace}
}

func (p podProxy) do(ctx context.Context, pod, method, path string, body []byte) ([]byte, int, error) {
	if p.rest == nil || p.rest.Client == nil {
		return nil, 0, fmt.Errorf("%s %s on pod %s: the Kubernetes client has no HTTP transport", method, path, pod)
	}
	u := p.rest.Verb(method).
		Namespace(p.namespace).
		Resource("pods").
		Name(pod + ":" + strconv.Itoa(PortAPI)).
		SubResource("proxy").
		Suffix(strings.Split(strings.Trim(path, "/"), "/")...).
		URL()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s on pod %s: %w", method, path, pod, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.rest.Client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s on pod %s: %w", method, path, pod, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s on pod %s: read response: %w", method, path, pod, err)
	}
	return raw, resp.StatusCode, nil
}

// maxBody bounds what is read of an answer: a proxy's toxics list is small.
const maxBody = 1 << 20

// apiError is a failed call to a sidecar's API, with Toxiproxy's own message
// when the body carries one ({"error": ..., "status": ...}) and the API
// server's otherwise (for example when the pod is gone).
type apiError struct {
	Pod    string
	Method string
	Path   string
	Status int
	Body   string
}

func (e *apiError) Error() string {
	msg := strings.TrimSpace(e.Body)
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(e.Body), &body) == nil {
		if body.Error != "" {
			msg = body.Error
		} else if body.Message != "" {
			msg = body.Message
		}
	}
	if line, _, _ := strings.Cut(msg, "\n"); line != "" {
		msg = line
	}
	return fmt.Sprintf("pod %s: %s %s: %d %s: %s", e.Pod, e.Method, e.Path, e.Status, http.StatusText(e.Status), msg)
}
