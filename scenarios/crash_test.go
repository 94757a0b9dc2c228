package scenarios_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/faults/kinds"
	"github.com/firedrill-dev/firedrill/faults/native"
	"github.com/firedrill-dev/firedrill/faults/toxiproxy"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// crashTimeouts name the waits of the crash check.
var crashTimeouts = struct {
	killPoint, exit, cleanup, buildCLI time.Duration
}{killPoint: 3 * time.Minute, exit: 30 * time.Second, cleanup: 3 * time.Minute, buildCLI: 5 * time.Minute}

// crashFaultDuration is the duration the crashed drills give faults that
// have none, so that their expiry timers fire within the check.
const crashFaultDuration = 10 * time.Second

// crashCase is one SIGKILL of a drill: which drill, the moment to kill it,
// and, for a fault that must end by itself, how to see that it ended.
type crashCase struct {
	name     string
	scenario drills.Scenario
	// skip says why this host cannot run the case, or "".
	skip func() string
	// killAt holds once the moment has come; it sees the child's run ID.
	killAt func(ctx context.Context, run string) (bool, error)
	// ended, when set, holds once the fault is gone by itself, which must
	// happen within expiresIn of the moment killAt first held.
	ended     func(ctx context.Context) (bool, error)
	expiresIn time.Duration
	// random, when set, kills at a moment drawn from [0, random) after the
	// drill's Service appears.
	random time.Duration
}

// crashScenario marks a catalogue drill as one the crash check runs, so
// that the suite sets up its backends.
func crashScenario(s drills.Scenario) drills.Scenario {
	s.Labels = append([]string{scenarios.LabelCrash}, s.Labels...)
	return s
}

var (
	crashDeploy    = crashScenario(scenarios.CanaryBadVersion)
	crashChaos     = crashScenario(scenarios.CanaryPodFailure)
	crashNodePause = crashScenario(scenarios.NodePauseDuringCanary)
	crashPartition = crashScenario(scenarios.CanaryNetworkPartition)
	crashToxic     = crashScenario(scenarios.CanaryNetworkDelay)
)

// crashScenarios are the drills the crash check kills, for backend setup.
var crashScenarios = []drills.Scenario{crashDeploy, crashChaos, crashNodePause, crashPartition, crashToxic}

// The crash check runs real drills in child processes (this same test
// binary), kills each child's whole process group with SIGKILL at a chosen
// or random moment, checks that native faults end by themselves within the
// time they state, then runs `firedrill cleanup --run` and counts what is
// left on the cluster: it must be nothing.
var _ = Describe("killing a drill with SIGKILL", Label(scenarios.LabelCrash, scenarios.LabelSerial), Serial, Ordered, func() {
	var cli string
	var kind *cluster.Kind
	var sweep drills.Sweep
	BeforeAll(func(ctx SpecContext) {
		if env.faults.Nodes == nil {
			Skip("the crash check needs the firedrill kind cluster: it pauses its node and counts rules on it")
		}
		kind = newKind()
		sweep = drills.Sweep{Client: env.cluster.Client, Chaos: env.faults.Chaos, Nodes: kind, NodeExec: kind.NodeExec}
		cli = filepath.Join(GinkgoT().TempDir(), "firedrill")
		By("building the firedrill CLI, whose cleanup the check runs")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", cli, "github.com/firedrill-dev/firedrill/cmd/firedrill").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build: %s", out)
	}, NodeTimeout(crashTimeouts.buildCLI))

	nodeName := func(ctx context.Context) string {
		names, err := kind.NodeContainers(ctx)
		Expect(err).NotTo(HaveOccurred())
		return names[0]
	}
	expiresAfter := func(d time.Duration) time.Duration { return d + faults.ExpiryMargin }

	cases := []crashCase{
		{
			name: "while the drill deploys", scenario: crashDeploy,
			killAt: afterService(0),
		},
		{
			name: "during Chaos Mesh fault injection", scenario: crashChaos,
			skip: func() string { return skipUnlessBackend(crashChaos, kinds.ChaosMesh) },
			killAt: func(ctx context.Context, run string) (bool, error) {
				left, err := runChaos(ctx, run)
				return len(left) > 0, err
			},
		},
		{
			name: "during a node pause", scenario: crashNodePause,
			killAt: func(ctx context.Context, _ string) (bool, error) {
				_, paused, err := kind.NodeState(ctx, nodeName(ctx))
				return paused, err
			},
			ended: func(ctx context.Context) (bool, error) {
				running, paused, err := kind.NodeState(ctx, nodeName(ctx))
				return running && !paused, err
			},
			expiresIn: expiresAfter(crashNodePause.Faults[0].Duration),
		},
		{
			name: "during an iptables partition", scenario: crashPartition,
			killAt: func(ctx context.Context, _ string) (bool, error) {
				n, err := native.PartitionRules(ctx, kind.NodeExec)
				return n > 0, err
			},
			ended: func(ctx context.Context) (bool, error) {
				n, err := native.PartitionRules(ctx, kind.NodeExec)
				return n == 0, err
			},
			expiresIn: expiresAfter(crashFaultDuration),
		},
		{
			name: "during a Toxiproxy toxic", scenario: crashToxic,
			skip: func() string { return skipUnlessBackend(crashToxic, kinds.Toxiproxy) },
			killAt: func(ctx context.Context, _ string) (bool, error) {
				left, err := toxiproxy.LeftToxics(ctx, env.cluster.Client)
				return len(left) > 0, err
			},
			ended: func(ctx context.Context) (bool, error) {
				left, err := toxiproxy.LeftToxics(ctx, env.cluster.Client)
				return len(left) == 0, err
			},
			expiresIn: expiresAfter(crashFaultDuration),
		},
		randomCrash(),
	}
	for _, c := range cases {
		It("cleans up after a kill "+c.name, func(ctx SpecContext) {
			crash(ctx, c, cli, sweep)
		}, NodeTimeout(crashTimeouts.killPoint+crashTimeouts.exit+2*crashTimeouts.cleanup))
	}
})

// skipUnlessBackend says why a case cannot run when its drill's fault would
// not use backend on this host.
func skipUnlessBackend(s drills.Scenario, backend string) string {
	got, skip, err := faults.Resolve(env.faults, s.Faults[0])
	switch {
	case err != nil:
		return err.Error()
	case skip != "":
		return skip
	case got != backend:
		return fmt.Sprintf("%s runs %s through %s on this host, not %s", s.Name, s.Faults[0].Kind, got, backend)
	}
	return ""
}

// randomCrash kills the deploy drill at a random moment between its
// Service appearing and the end of its rollback; crash draws the moment.
func randomCrash() crashCase {
	return crashCase{name: "at a random moment", scenario: crashDeploy, random: 40 * time.Second}
}

// afterService holds once the run's Service has existed for the delay.
func afterService(delay time.Duration) func(ctx context.Context, run string) (bool, error) {
	var since time.Time
	return func(ctx context.Context, run string) (bool, error) {
		if since.IsZero() {
			if ok, err := runHasService(ctx, run); !ok || err != nil {
				return false, err
			}
			since = time.Now()
		}
		return time.Since(since) >= delay, nil
	}
}

// runHasService holds once a drill namespace of the run has its Service,
// which holds one of the published NodePorts.
func runHasService(ctx context.Context, run string) (bool, error) {
	nss, err := drills.DrillNamespaces(ctx, env.cluster.Client, run)
	if err != nil || len(nss) == 0 {
		return false, err
	}
	svcs, err := env.cluster.Client.CoreV1().Services(nss[0]).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	return len(svcs.Items) > 0 && svcs.Items[0].Spec.Type == corev1.ServiceTypeNodePort, nil
}

// crash runs one case: start the child, kill it, wait for the fault to end
// by itself where it must, clean up with the CLI, and count what is left.
func crash(ctx context.Context, c crashCase, cli string, sweep drills.Sweep) {
	if c.skip != nil {
		if why := c.skip(); why != "" {
			Skip(why)
		}
	}
	if c.random > 0 {
		delay := rand.N(c.random)
		c.killAt = afterService(delay)
		AddReportEntry("random kill", fmt.Sprintf("killing %.1f s after the drill's Service appears", delay.Seconds()), ReportEntryVisibilityAlways)
	}
	run := fmt.Sprintf("crash-%s-%d", time.Now().Format("150405"), GinkgoParallelProcess())
	var out bytes.Buffer
	child := startCrashChild(c.scenario, run, &out)
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	DeferCleanup(func() { _ = syscall.Kill(-child.Process.Pid, syscall.SIGKILL) })

	By("waiting for the moment to kill: " + c.name)
	Eventually(ctx, func(ctx context.Context) (bool, error) { return c.killAt(ctx, run) }).
		WithTimeout(crashTimeouts.killPoint).WithPolling(200*time.Millisecond).
		Should(BeTrue(), "the child never got there; its output:\n%s", &out)
	killed := time.Now()
	Expect(syscall.Kill(-child.Process.Pid, syscall.SIGKILL)).To(Succeed())
	Eventually(exited).WithTimeout(crashTimeouts.exit).Should(Receive(MatchError(ContainSubstring("signal: killed"))))
	GinkgoWriter.Printf("child output up to the kill:\n%s\n", &out)

	if c.ended != nil {
		By(fmt.Sprintf("waiting for the fault to end by itself (stated: within %s of injection)", c.expiresIn))
		Eventually(ctx, c.ended).WithTimeout(c.expiresIn+10*time.Second).WithPolling(250*time.Millisecond).
			Should(BeTrue(), "the fault outlived its injector")
		took := time.Since(killed)
		AddReportEntry("crash "+c.name, fmt.Sprintf("the fault ended by itself %.1f s after the kill (stated: %s after injection)", took.Seconds(), c.expiresIn), ReportEntryVisibilityAlways)
		Expect(took).To(BeNumerically("<=", c.expiresIn), "the fault ended later than it states")
	}

	By("running firedrill cleanup --run " + run)
	Eventually(ctx, func(ctx context.Context) error { // the API is back once a paused node is
		_, err := env.cluster.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		return err
	}).WithTimeout(crashTimeouts.cleanup).Should(Succeed())
	cleanup := exec.CommandContext(ctx, cli, "cleanup", "--run", run, "--cluster", *flagCluster)
	said, err := cleanup.CombinedOutput()
	AddReportEntry("cleanup after a kill "+c.name, string(said), ReportEntryVisibilityAlways)
	Expect(err).NotTo(HaveOccurred(), "firedrill cleanup: %s", said)
	Expect(string(said)).To(ContainSubstring("removed lease firedrill-runs/run-"+run), "the dead run's Lease was not swept")

	census, err := sweep.Census(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(census.Empty()).To(BeTrue(), "left after cleanup: %s", census)
	Expect(census.IptablesRules).To(BeZero(), "iptables rules were not counted")
}

// startCrashChild starts the drill in a child process in a process group of
// its own, as `make drill` would run it, so that it can be killed whole.
func startCrashChild(s drills.Scenario, run string, out *bytes.Buffer) *exec.Cmd {
	child := exec.Command(os.Args[0],
		// The trailing space matches the drill's own name only, not a
		// longer name that starts with it.
		"-ginkgo.focus=drills "+s.Name+" ", "-ginkgo.label-filter=!"+scenarios.LabelInterruption+" && !"+scenarios.LabelCrash,
		"-firedrill.cluster="+*flagCluster, "-firedrill.run-id="+run,
		"-firedrill.fault-duration="+crashFaultDuration.String(),
		// The parent suite still needs Chaos Mesh after the child dies.
		"-firedrill.keep-chaos-mesh",
		"-firedrill.run-dir="+filepath.Join(env.runDir, run))
	child.Stdout, child.Stderr = out, out
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Expect(child.Start()).To(Succeed())
	GinkgoWriter.Printf("started %s\n", strings.Join(child.Args, " "))
	return child
}
