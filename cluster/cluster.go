package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Kinds of cluster a drill can run against.
const (
	KindCluster     = "kind"
	ExistingCluster = "existing"
)

// Cluster is a reachable Kubernetes cluster with its clients.
type Cluster struct {
	// Kind is KindCluster or ExistingCluster.
	Kind string
	// Name is the kind cluster name, or the kubeconfig context's cluster.
	Name string
	// Context is the kubeconfig context in use.
	Context string
	// Kubeconfig is the path of the kubeconfig file the clients were built from.
	Kubeconfig string
	// Version is the API server's Kubernetes version.
	Version string
	// REST is the client configuration, for packages that build their own clients.
	REST *rest.Config
	// Client is a typed clientset for the cluster.
	Client kubernetes.Interface
}

// connect builds clients from a kubeconfig file and context and checks that
// the API server answers.
func connect(ctx context.Context, kubeconfig, kubeContext string) (*Cluster, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
	}
	if kubeContext == "" {
		kubeContext = raw.CurrentContext
	}
	kctx, ok := raw.Contexts[kubeContext]
	if !ok {
		return nil, fmt.Errorf("kubeconfig %s has no context %q", kubeconfig, kubeContext)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s context %s: %w", kubeconfig, kubeContext, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for context %s: %w", kubeContext, err)
	}
	version, err := serverVersion(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("API server of context %s (%s) does not answer: %w", kubeContext, cfg.Host, err)
	}
	return &Cluster{
		Name: kctx.Cluster, Context: kubeContext, Kubeconfig: kubeconfig,
		Version: version, REST: cfg, Client: client,
	}, nil
}

// serverVersion asks the API server for its version, bounded by ctx.
func serverVersion(ctx context.Context, client kubernetes.Interface) (string, error) {
	body, err := client.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", err
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// Existing connects to a cluster that someone else runs, such as staging,
// through a kubeconfig file and context. An empty kubeconfig uses $KUBECONFIG
// or ~/.kube/config, read only; an empty context uses the current one.
func Existing(ctx context.Context, kubeconfig, kubeContext string) (*Cluster, error) {
	if kubeconfig == "" {
		kubeconfig = defaultUserKubeconfig()
	}
	c, err := connect(ctx, kubeconfig, kubeContext)
	if err != nil {
		return nil, err
	}
	c.Kind = ExistingCluster
	return c, nil
}

func defaultUserKubeconfig() string {
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return filepath.SplitList(env)[0]
	}
	return clientcmd.RecommendedHomeFile
}

// CacheDir is where firedrill keeps kubeconfig files, logs and build outputs:
// $FIREDRILL_CACHE, else the user cache directory's firedrill folder.
func CacheDir() string {
	if dir := os.Getenv("FIREDRILL_CACHE"); dir != "" {
		return dir
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "firedrill")
}

// progress prints one line of progress with the time since start.
type progress struct {
	out io.Writer
}

func (p progress) printf(format string, args ...any) {
	if p.out == nil {
		return
	}
	fmt.Fprintf(p.out, "cluster: "+format+"\n", args...)
}

func (p progress) done(what string, start time.Time) {
	p.printf("%s (%.1fs)", what, time.Since(start).Seconds())
}
