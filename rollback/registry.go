package rollback

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/internal/registry"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Env is what a machinery is built with: the drill's namespace and client,
// the default image, how users reach the app, and what detects a bad version.
type Env struct {
	Client kubernetes.Interface
	// Dynamic reaches the custom resources of a machinery's controller
	// (Argo Rollouts); only machineries that need it check it.
	Dynamic   dynamic.Interface
	Namespace string
	// Image is the image of versions that name none.
	Image string
	// NodePort publishes the user Service on the nodes (0 lets Kubernetes choose).
	NodePort int32
	// Detection says what tells the machinery the new version is bad.
	Detection Detection
	// ProgressDeadline is the new version's progressDeadlineSeconds (default 15s).
	ProgressDeadline time.Duration
	// Log receives one line per step (may be nil).
	Log io.Writer
	// Pods adjusts the pod templates, e.g. for a fault sidecar (may be nil).
	Pods *PodHook
	// Prometheus is where a machinery's analysis queries metrics.
	Prometheus PrometheusRef
	// FlagServerImage is the flag server the feature-flag machinery runs.
	FlagServerImage string
	// FlaggerImage is the Flagger image, whose webhook receiver the flagger
	// machinery runs in the drill namespace.
	FlaggerImage string
}

// PodHook adjusts each version's pod template before it is deployed.
type PodHook struct {
	// TargetPort, when set, is the named container port user traffic goes
	// to instead of the app's own port.
	TargetPort string
	// Apply changes the template of the stable (canary false) or the new
	// (canary true) version.
	Apply func(canary bool, tmpl *corev1.PodTemplateSpec) error
}

// Plan is what a scenario asks of a machinery, checked before anything is
// created.
type Plan struct {
	Stable, Canary Version
	Detection      Detection
	// Config is the machinery's own configuration, such as a team's
	// AnalysisTemplates; empty takes the machinery's default.
	Config Config
}

// Spec registers a machinery by name.
type Spec struct {
	// Name is what scenarios choose it by and what reports say.
	Name string
	// Summary says in one line what the machinery is, for docs and plans.
	Summary string
	// Needs names the backends the machinery needs in the cluster
	// (BackendArgoRollouts, BackendPrometheus), so a suite installs them
	// only when a selected drill uses it.
	Needs []string
	// Separate says each version runs in a Deployment of its own, so faults
	// that reconfigure one version's Deployment can target it.
	Separate bool
	// Check refuses, with a one-line error naming the field, a plan this
	// machinery cannot honour.
	Check func(Plan) error
	// Share is the largest share of user traffic the plan's canary gets
	// before any rollback; nil means it can get all of it.
	Share func(Plan) float64
	// New builds the machinery for a checked plan; it creates nothing in
	// the cluster.
	New func(Env, Plan) (Machinery, error)
}

var machineries = registry.Registry[Spec]{What: "machinery"}

// Register adds a machinery. It panics on a duplicate or incomplete spec,
// since that is a programming error found at init.
func Register(s Spec) {
	if s.Name == "" || s.New == nil || s.Check == nil {
		panic("rollback: Register needs a name, New and Check")
	}
	machineries.Add(s.Name, s)
}

// CanaryShare is the largest share of user traffic the plan's canary gets
// under this machinery, so a scenario cannot wait for more.
func (s Spec) CanaryShare(p Plan) float64 {
	if s.Share == nil {
		return 1
	}
	return s.Share(p)
}

// Lookup returns the machinery registered under name.
func Lookup(name string) (Spec, error) { return machineries.Get(name) }

// Names lists the registered machineries, sorted.
func Names() []string { return machineries.Names() }

// Build checks env and builds the machinery for a plan that Check accepted.
func (s Spec) Build(env Env, p Plan) (Machinery, error) {
	if err := env.check(s.Name); err != nil {
		return nil, err
	}
	return s.New(env.withDefaults(), p)
}

func (e Env) check(name string) error {
	switch {
	case e.Client == nil:
		return fmt.Errorf("%s machinery: client is nil", name)
	case e.Namespace == "":
		return fmt.Errorf("%s machinery: namespace is empty", name)
	case e.Image == "":
		return fmt.Errorf("%s machinery: image is empty", name)
	case e.ProgressDeadline != 0 && e.ProgressDeadline < time.Second:
		return fmt.Errorf("%s machinery: progress deadline %s is under 1s", name, e.ProgressDeadline)
	}
	if err := e.Detection.Validate(); err != nil {
		return fmt.Errorf("%s machinery: %w", name, err)
	}
	return nil
}

func (e Env) withDefaults() Env {
	if e.ProgressDeadline == 0 {
		e.ProgressDeadline = 15 * time.Second
	}
	return e
}

// checkReplicas refuses a version without pods.
func checkReplicas(field string, v Version) error {
	if v.Replicas < 1 {
		return fmt.Errorf("%s.replicas %d: want at least 1", field, v.Replicas)
	}
	return nil
}

// checkSizesItself refuses canary replicas for a machinery that sizes the
// new version itself, and a detection it does not offer.
func checkSizesItself(how string) func(Plan) error {
	return func(p Plan) error {
		if p.Canary.Replicas != 0 {
			return fmt.Errorf("canary.replicas %d: %s; leave it 0", p.Canary.Replicas, how)
		}
		return checkDetection(p.Detection, DetectKubernetes, DetectHarness)
	}
}

// checkDetection refuses a detection mode the machinery does not offer.
func checkDetection(d Detection, offered ...Detection) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("detection: %w", err)
	}
	if !slices.Contains(offered, d) {
		return fmt.Errorf("detection %q is not offered", d)
	}
	return nil
}
