package drills

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/internal/audit"
	"github.com/firedrill-dev/firedrill/reports"
)

// AuditManager is whom the API server attributes a drill's writes to: its
// clients' user agent, of which the API server takes the part before the
// first "/" as the field manager of every create and update.
func AuditManager(drillID string) string { return "firedrill-drill-" + drillID }

// audited gives the drill clients of its own whose every write goes into
// its audit log, under AuditManager. A cluster without a REST config (a
// fake in unit tests) is kept as it is, unaudited.
func (d *Drill) audited(c *cluster.Cluster) error {
	d.audit = &audit.Log{}
	if c.REST == nil {
		d.cluster = c
		return nil
	}
	cfg := rest.CopyConfig(c.REST)
	cfg.UserAgent = AuditManager(d.ID) + "/" + d.Scenario.Name
	// JSON both ways, so that the log can read every object's name and
	// resourceVersion (client-go may otherwise speak protobuf).
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cfg.Wrap(audit.Wrap(d.audit))
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("audited client: %w", err)
	}
	own := *c
	own.REST, own.Client = cfg, client
	d.cluster = &own
	if d.opts.Faults.Chaos != nil {
		if d.opts.Faults.Chaos, err = chaosmesh.NewClient(cfg); err != nil {
			return fmt.Errorf("audited chaos client: %w", err)
		}
	}
	return nil
}

// AuditedResources are what a drill, its machinery and their controllers
// write in the drill namespace; absent ones (a CRD not installed) are
// skipped.
var AuditedResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "serviceaccounts"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysistemplates"},
}

func init() { AuditedResources = append(AuditedResources, watchedResources...) }

// watchedResources are where a drill's machinery and its controllers act.
var watchedResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "configmaps"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"},
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysisruns"},
	{Group: "flagger.app", Version: "v1beta1", Resource: "canaries"},
	{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "podchaos"},
	{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "networkchaos"},
	{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "timechaos"},
}

// watchChanges records, until the drill ends, every change in the drill
// namespace that someone other than the drill made.
func (d *Drill) watchChanges() {
	if d.cluster.REST == nil {
		return
	}
	dyn, err := dynamic.NewForConfig(d.cluster.REST)
	if err != nil {
		d.record(EventMachineryError, d.t0, "audit watch: "+err.Error())
		return
	}
	go audit.Watch(d.life, dyn, d.Namespace, watchedResources, AuditManager(d.ID), d.audit)
}

// rewriteAudit writes the audit log again once cleanup is over, so that it
// also holds the cleanup's deletes (the report's counts stop before them).
func (d *Drill) rewriteAudit() {
	path := filepath.Join(d.evidenceDir(), audit.FileName)
	if _, err := os.Stat(path); err == nil {
		_ = d.audit.WriteFile(path)
	}
}

// AuditWrites returns the drill's own successful writes so far.
func (d *Drill) AuditWrites() []audit.Entry { return d.audit.Writes() }

// writeAudit writes the audit log into the evidence directory and returns
// its summary for the report (nil when it could not be written).
func (d *Drill) writeAudit() *reports.AuditSummary {
	if err := d.audit.WriteFile(filepath.Join(d.evidenceDir(), audit.FileName)); err != nil {
		return nil
	}
	all := d.audit.Entries()
	// Relative to the run directory, where the report and index are.
	rel := filepath.Join(filepath.Base(d.evidenceDir()), audit.FileName)
	return &reports.AuditSummary{Path: rel, Writes: len(d.audit.Writes()), Watched: len(all) - countSource(all, audit.SourceFiredrill)}
}

func countSource(entries []audit.Entry, source string) int {
	n := 0
	for _, e := range entries {
		if e.Source == source {
			n++
		}
	}
	return n
}

// why names, for the audit log, the step a context's writes belong to.
func why(ctx context.Context, step string) context.Context { return audit.WithWhy(ctx, step) }
