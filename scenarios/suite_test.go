package scenarios_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"

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
	flagAllowContext  = flag.String("firedrill.allow-context", "", "comma-separated kubeconfig contexts firedrill may write to, beside the allowed-contexts file and FIREDRILL_ALLOW_CONTEXTS")
	flagRunDir        = flag.String("firedrill.run-dir", os.Getenv("FIREDRILL_RUN_DIR"), "directory for reports (default _runs/<time>)")
	flagRunID         = flag.String("firedrill.run-id", "", "label value for this run's namespaces (default from the time)")
	flagBudget        = flag.Duration("firedrill.budget", 0, "override every scenario's MTTR budget")
	flagRate          = flag.Int("firedrill.rate", 0, "observer rate in Hz (default 50)")
	flagKeepChaosMesh = flag.Bool("firedrill.keep-chaos-mesh", false, "leave Chaos Mesh installed after the suite")
	flagKeepArgo      = flag.Bool("firedrill.keep-argo-rollouts", false, "leave Argo Rollouts, Prometheus and Flagger installed after the suite")
	flagArgoConfig    = flag.String("firedrill.argo-config", "", "YAML file with your AnalysisTemplates (and Rollout strategy) for the argo-rollouts drills that are not expect:caught")
	flagRepeat        = flag.Int("firedrill.repeat", 1, "run each selected drill this many times, each in a fresh namespace")
	flagCompare       = flag.Int("firedrill.compare-repeat", 0, "run the drills labelled comparison this many times (at least -firedrill.repeat), for the strategy comparison")
	flagFaultDuration = flag.Duration("firedrill.fault-duration", 0, "end every fault that has no duration of its own after this long (where its kind takes one); native faults' expiry timers follow it")
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
	images map[string]string
	// nodePorts are this process's share of the published NodePorts.
	nodePorts []int32
	hostPorts map[int32]int32
	runID     string
	runDir    string
	// faults is what injected faults need; chaosInstall is set, on
	// process 1, when this suite installed Chaos Mesh.
	faults       faults.Host
	chaosInstall *chaosmesh.Install
	// argoInstalled is set, on process 1, when this suite installed Argo
	// Rollouts and Prometheus.
	argoInstalled bool
	// flaggerInstalled is set, on process 1, when this suite installed Flagger.
	flaggerInstalled bool
	// lease is this run's Lease, held by process 1.
	lease *drills.RunLease
}

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	if *flagRepeat < 1 || *flagRepeat > 100 {
		t.Fatalf("-firedrill.repeat %d: want 1..100", *flagRepeat)
	}
	if *flagCompare < 0 || *flagCompare > 100 {
		t.Fatalf("-firedrill.compare-repeat %d: want 0..100", *flagCompare)
	}
	describeDrills()
	RunSpecs(t, "firedrill drills")
}

// shared is what process 1 sets up for the whole suite and hands to every
// parallel process: where the cluster is, what this host can run, and which
// fault backends were installed.
type shared struct {
	RunID, RunDir string
	// Kubeconfig and Context reach an existing cluster; Kind names the
	// kind cluster otherwise.
	Kubeconfig, Context string
	Kind                string
	HostPorts           map[int32]int32
	Capabilities        faults.Capabilities
	ToxiproxyImage      string
	Chaos               bool
	ChaosMissing        string
	ChaosTag            string
	ChaosChart          string
	// Argo says this suite installed Argo Rollouts and Prometheus.
	Argo bool
	// Flagger says this suite installed Flagger.
	Flagger bool
}

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	st := shared{RunID: *flagRunID, RunDir: *flagRunDir}
	if st.RunID == "" {
		st.RunID = time.Now().Format("20060102-150405")
	}
	if st.RunDir == "" {
		st.RunDir = filepath.Join("..", "_runs", st.RunID)
	}
	Expect(os.MkdirAll(st.RunDir, 0o755)).To(Succeed())
	loadImageNames()
	env.runID, env.runDir = st.RunID, st.RunDir
	if *flagContext != "" {
		// Before the first write to the cluster.
		allow, err := cluster.LoadAllowlist("..", *flagAllowContext)
		Expect(err).NotTo(HaveOccurred())
		if err := allow.Check(*flagKubeconfig, *flagContext); err != nil {
			AbortSuite(err.Error())
		}
		st.Kubeconfig, st.Context = *flagKubeconfig, *flagContext
	} else {
		setUpKindCluster(ctx, &st)
	}
	holdRunLease(ctx, st)
	raw, err := json.Marshal(st)
	Expect(err).NotTo(HaveOccurred())
	return raw
}, func(ctx SpecContext, raw []byte) {
	var st shared
	Expect(json.Unmarshal(raw, &st)).To(Succeed())
	env.runID, env.runDir = st.RunID, st.RunDir
	loadImageNames()
	if st.Kind == "" {
		useExistingCluster(ctx, st)
		return
	}
	attachKindCluster(ctx, st)
}, NodeTimeout(2*suiteTimeouts.clusterUp+suiteTimeouts.loadImage))

// loadImageNames reads the sample app images the Makefile names.
func loadImageNames() {
	env.image = os.Getenv("FIREDRILL_SAMPLEAPP_IMAGE")
	Expect(env.image).NotTo(BeEmpty(), "FIREDRILL_SAMPLEAPP_IMAGE is not set: run through `make drill` or `make test`")
	v2 := os.Getenv("FIREDRILL_SAMPLEAPP_V2_IMAGE")
	Expect(v2).NotTo(BeEmpty(), "FIREDRILL_SAMPLEAPP_V2_IMAGE is not set: run through `make drill` or `make test`")
	env.images = map[string]string{"v1": env.image, "v2": v2}
}

func newKind() *cluster.Kind {
	configPath, err := cluster.FindConfig(".")
	Expect(err).NotTo(HaveOccurred())
	return cluster.NewKind(
		cluster.WithName(*flagCluster), cluster.WithConfig(configPath), cluster.WithProgress(GinkgoWriter),
		cluster.WithAirgap(os.Getenv("FIREDRILL_AIRGAP") == "1"), cluster.WithNodeImage(os.Getenv("FIREDRILL_NODE_IMAGE")),
	)
}

// setUpKindCluster, on process 1, brings the kind cluster up, loads the
// images, probes what this host can run and installs the fault backends
// that the selected drills need.
func setUpKindCluster(ctx context.Context, st *shared) {
	kind := newKind()
	By("bringing up kind cluster " + *flagCluster)
	var err error
	env.cluster, err = kind.Up(ctx)
	Expect(err).NotTo(HaveOccurred())
	st.Kind = *flagCluster
	By("loading " + env.image + " and " + env.images["v2"])
	Expect(kind.LoadImages(ctx, env.image, env.images["v2"])).To(Succeed())
	st.Capabilities = probeCapabilities(ctx, kind)
	setUpFaultBackends(ctx, kind, st)
	setUpMachineryBackends(ctx, kind, st)
	configPath, err := cluster.FindConfig(".")
	Expect(err).NotTo(HaveOccurred())
	st.HostPorts, err = cluster.HostPorts(configPath, 0)
	Expect(err).NotTo(HaveOccurred())
}

// attachKindCluster, on every process, connects to the cluster process 1
// set up and takes its share of the published NodePorts.
func attachKindCluster(ctx context.Context, st shared) {
	kind := newKind()
	var err error
	env.cluster, err = kind.Attach(ctx)
	Expect(err).NotTo(HaveOccurred())
	env.hostPorts = st.HostPorts
	cfg, _ := GinkgoConfiguration()
	env.nodePorts = portShare(st.HostPorts, GinkgoParallelProcess(), cfg.ParallelTotal)
	Expect(env.nodePorts).NotTo(BeEmpty(), "%d parallel processes but only %d published NodePorts in kind-config.yaml", cfg.ParallelTotal, len(st.HostPorts))
	env.faults = faults.Host{Capabilities: st.Capabilities, NodeExec: kind.NodeExec, Nodes: drills.NodesOnLease(kind, env.cluster.Client, st.RunID),
		ToxiproxyImage: st.ToxiproxyImage, ChaosMissing: st.ChaosMissing}
	if st.Chaos {
		env.faults.Chaos, err = chaosmesh.NewClient(env.cluster.REST)
		Expect(err).NotTo(HaveOccurred())
		if GinkgoParallelProcess() == 1 {
			install := chaosInstall(st.ChaosTag, st.ChaosChart)
			env.chaosInstall = &install
		}
	}
	env.argoInstalled = st.Argo && GinkgoParallelProcess() == 1
	env.flaggerInstalled = st.Flagger && GinkgoParallelProcess() == 1
}

// portShare is the NodePorts parallel process p of n may use: every n-th
// one, so no two processes ever race for a port.
func portShare(hostPorts map[int32]int32, p, n int) []int32 {
	all := slices.Sorted(maps.Keys(hostPorts))
	var mine []int32
	for i, port := range all {
		if i%n == p-1 {
			mine = append(mine, port)
		}
	}
	return mine
}

// probeCapabilities finds the Chaos Mesh fault kinds this host cannot run
// and keeps the answer with the run's reports, so skips carry a reason.
func probeCapabilities(ctx context.Context, kind *cluster.Kind) faults.Capabilities {
	By("probing which fault kinds this host can run")
	caps, err := faults.Probe(ctx, kind.NodeExec)
	Expect(err).NotTo(HaveOccurred())
	raw, err := json.MarshalIndent(caps, "", "  ")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(env.runDir, "capabilities.json"), raw, 0o644)).To(Succeed())
	AddReportEntry("fault capabilities", caps.String())
	fmt.Fprintf(GinkgoWriter, "fault capabilities: %s\n", caps)
	return caps
}

func useExistingCluster(ctx context.Context, st shared) {
	Expect(*flagURL).NotTo(BeEmpty(), "-firedrill.url is required with -firedrill.context")
	var err error
	env.cluster, err = cluster.Existing(ctx, st.Kubeconfig, st.Context)
	Expect(err).NotTo(HaveOccurred())
}

// drillOptions picks a free published NodePort and the observer URL for it.
func drillOptions(ctx context.Context) drills.Options {
	opts := drills.Options{Image: env.image, Images: env.images, RunID: env.runID, RunDir: env.runDir, Log: GinkgoWriter, URL: *flagURL, Faults: env.faults,
		FlagServerImage: os.Getenv(flagServerImageEnv), FlaggerImage: os.Getenv(flaggerImageEnv)}
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

// holdRunLease, on process 1, takes this run's Lease before any drill
// writes, then sweeps what runs whose Lease expired left behind, so that a
// crashed run never blocks this one; live runs are never touched.
func holdRunLease(ctx context.Context, st shared) {
	c := env.cluster
	if c == nil {
		var err error
		c, err = cluster.Existing(ctx, st.Kubeconfig, st.Context)
		Expect(err).NotTo(HaveOccurred())
	}
	var err error
	env.lease, err = drills.HoldRunLease(ctx, c.Client, st.RunID)
	Expect(err).NotTo(HaveOccurred())
	sweep := drills.Sweep{Client: c.Client, Keep: st.RunID}
	if st.Kind != "" {
		k := newKind()
		sweep.Nodes, sweep.NodeExec = k, k.NodeExec
	}
	if sweep.Chaos, err = chaosmesh.NewClient(c.REST); err != nil {
		Fail(err.Error())
	}
	Expect(sweep.Clean(ctx, func(line string) {
		fmt.Fprintln(GinkgoWriter, "sweep:", line)
		AddReportEntry("sweep", line)
	})).To(Succeed())
}
