package scenarios_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/reports"
)

// Harness flags; pass them after `--` on the ginkgo command line.
var (
	flagCluster       = flag.String("firedrill.cluster", cluster.DefaultName, "kind cluster to create or reuse")
	flagKubeconfig    = flag.String("firedrill.kubeconfig", "", "kubeconfig of an existing cluster (with -firedrill.context)")
	flagContext       = flag.String("firedrill.context", "", "run against this existing kubeconfig context instead of kind")
	flagURL           = flag.String("firedrill.url", "", "user-path URL of the app on an existing cluster")
	flagRunDir        = flag.String("firedrill.run-dir", os.Getenv("FIREDRILL_RUN_DIR"), "directory for reports (default _runs/<time>)")
	flagRunID         = flag.String("firedrill.run-id", "", "label value for this run's namespaces (default from the time)")
	flagBudget        = flag.Duration("firedrill.budget", 0, "override every scenario's MTTR budget")
	flagRate          = flag.Int("firedrill.rate", 0, "observer rate in Hz (default 50)")
	flagKeepChaosMesh = flag.Bool("firedrill.keep-chaos-mesh", false, "leave Chaos Mesh installed after the suite")
	flagRepeat        = flag.Int("firedrill.repeat", 1, "run each selected drill this many times, each in a fresh namespace")
)

// suiteTimeouts name the suite-level waits.
var suiteTimeouts = struct {
	clusterUp, loadImage, report time.Duration
}{clusterUp: 10 * time.Minute, loadImage: 2 * time.Minute, report: time.Minute}

// env is what every drill shares: one cluster, reused across specs.
var env struct {
	cluster *cluster.Cluster
	image   string
	// images maps each version name to the sample app image built for it.
	images    map[string]string
	nodePorts []int32
	hostPorts map[int32]int32
	runID     string
	runDir    string
	// capabilities says which Chaos Mesh fault kinds cannot run here.
	capabilities faults.Capabilities
	// faults is what injected faults need; chaosInstall is set when this
	// suite installed Chaos Mesh.
	faults       faults.Host
	chaosInstall *chaosmesh.Install
}

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	if *flagRepeat < 1 || *flagRepeat > 100 {
		t.Fatalf("-firedrill.repeat %d: want 1..100", *flagRepeat)
	}
	describeDrills()
	RunSpecs(t, "firedrill drills")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	env.runID = *flagRunID
	if env.runID == "" {
		env.runID = time.Now().Format("20060102-150405")
	}
	env.runDir = *flagRunDir
	if env.runDir == "" {
		env.runDir = filepath.Join("..", "_runs", env.runID)
	}
	Expect(os.MkdirAll(env.runDir, 0o755)).To(Succeed())
	env.image = os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE")
	Expect(env.image).NotTo(BeEmpty(), "FIREDRILL_SAMPLEAPP_IMAGE is not set: run through `make drill` or `make test`")
	v2 := os.Getenv("FIREDRILL_SAMPLEAPP_V2_IMAGE")
	Expect(v2).NotTo(BeEmpty(), "FIREDRILL_SAMPLEAPP_V2_IMAGE is not set: run through `make drill` or `make test`")
	env.images = map[string]string{"v1": env.image, "v2": v2}
	if *flagContext != "" {
		useExistingCluster(ctx)
		return
	}
	useKindCluster(ctx)
}, NodeTimeout(2*suiteTimeouts.clusterUp+suiteTimeouts.loadImage))

func useKindCluster(ctx context.Context) {
	configPath, err := cluster.FindConfig(".")
	Expect(err).NotTo(HaveOccurred())
	kind := cluster.NewKind(
		cluster.WithName(*flagCluster), cluster.WithConfig(configPath), cluster.WithProgress(GinkgoWriter),
		cluster.WithAirgap(os.Getenv("FIREDRILL_AIRGAP") == "1"), cluster.WithNodeImage(os.Getenv("FIREDRILL_NODE_IMAGE")),
	)
	By("bringing up kind cluster " + *flagCluster)
	env.cluster, err = kind.Up(ctx)
	Expect(err).NotTo(HaveOccurred())
	By("loading " + env.image + " and " + env.images["v2"])
	Expect(kind.LoadImages(ctx, env.image, env.images["v2"])).To(Succeed())
	probeCapabilities(ctx, kind)
	setUpFaultBackends(ctx, kind)
	env.hostPorts, err = cluster.HostPorts(configPath, 0)
	Expect(err).NotTo(HaveOccurred())
	for nodePort := range env.hostPorts {
		env.nodePorts = append(env.nodePorts, nodePort)
	}
	slices.Sort(env.nodePorts)
}

// probeCapabilities finds the Chaos Mesh fault kinds this host cannot run
// and keeps the answer with the run's reports, so skips carry a reason.
func probeCapabilities(ctx context.Context, kind *cluster.Kind) {
	By("probing which fault kinds this host can run")
	caps, err := faults.Probe(ctx, kind.NodeExec)
	Expect(err).NotTo(HaveOccurred())
	env.capabilities = caps
	raw, err := json.MarshalIndent(caps, "", "  ")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(env.runDir, "capabilities.json"), raw, 0o644)).To(Succeed())
	AddReportEntry("fault capabilities", caps.String())
	fmt.Fprintf(GinkgoWriter, "fault capabilities: %s\n", caps)
}

func useExistingCluster(ctx context.Context) {
	Expect(*flagURL).NotTo(BeEmpty(), "-firedrill.url is required with -firedrill.context")
	var err error
	env.cluster, err = cluster.Existing(ctx, *flagKubeconfig, *flagContext)
	Expect(err).NotTo(HaveOccurred())
}

// drillOptions picks a free published NodePort and the observer URL for it.
func drillOptions(ctx context.Context) drills.Options {
	opts := drills.Options{Image: env.image, Images: env.images, RunID: env.runID, RunDir: env.runDir, Log: GinkgoWriter, URL: *flagURL, Faults: env.faults}
	if *flagContext != "" {
		return opts
	}
	port, err := drills.FreeNodePort(ctx, env.cluster.Client, env.nodePorts)
	Expect(err).NotTo(HaveOccurred())
	opts.NodePort = port
	opts.URL = fmt.Sprintf("http://127.0.0.1:%d/", env.hostPorts[port])
	return opts
}

var _ = ReportAfterSuite("suite reports", func(r Report) {
	if env.runDir == "" {
		return
	}
	// Ginkgo's own reports sit beside the drill reports; junit.xml,
	// summary.md and index.html are rendered from the drills' JSON.
	Expect(reporters.GenerateJUnitReport(r, filepath.Join(env.runDir, "ginkgo-junit.xml"))).To(Succeed())
	Expect(reporters.GenerateJSONReport(r, filepath.Join(env.runDir, "ginkgo-suite.json"))).To(Succeed())
	if err := reports.RenderDir(env.runDir); err != nil {
		fmt.Fprintf(GinkgoWriter, "no drill reports rendered: %v\n", err)
		return
	}
	fmt.Fprintf(GinkgoWriter, "reports: %s\n", filepath.Join(env.runDir, reports.IndexFile))
})

func countDeployments(ctx context.Context, ns string) (int, error) {
	list, err := env.cluster.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	return len(list.Items), nil
}
