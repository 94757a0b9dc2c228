package scenarios_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// interruptTimeouts name the waits of the interrupt check.
var interruptTimeouts = struct {
	drillUnderway, exit time.Duration
}{drillUnderway: 3 * time.Minute, exit: 3 * time.Minute}

// killSwitch is how soon every active fault must be gone after SIGINT.
const killSwitch = 5 * time.Second

// interruptScenario is the drill the interrupt check interrupts: a Chaos
// Mesh pod-failure, active until it is removed. The suite selects its
// backend by it.
var interruptScenario = func() drills.Scenario {
	s := scenarios.CanaryPodFailure
	s.Labels = append([]string{scenarios.LabelInterruption}, s.Labels...)
	return s
}()

// The interrupt check runs a real drill in a child process (this same test
// binary), sends it SIGINT once its fault is active, measures how soon the
// fault is gone, and checks that the child removed its namespace before
// exiting.
var _ = Describe("interrupting a drill", Label(scenarios.LabelInterruption, scenarios.LabelSerial), Serial, func() {
	It("removes its faults within the kill-switch time and leaves nothing behind", func(ctx SpecContext) {
		if env.faults.Chaos == nil {
			Skip("Chaos Mesh is not installed: " + env.faults.ChaosMissing)
		}
		runID := "interrupt-" + time.Now().Format("150405")
		var out bytes.Buffer
		child := exec.Command(os.Args[0],
			"-ginkgo.focus="+interruptScenario.Name, "-ginkgo.label-filter=!"+scenarios.LabelInterruption,
			"-firedrill.cluster="+*flagCluster, "-firedrill.run-id="+runID,
			// The parent suite still needs Chaos Mesh after the child exits.
			"-firedrill.keep-chaos-mesh",
			"-firedrill.run-dir="+filepath.Join(env.runDir, runID))
		child.Stdout, child.Stderr = &out, &out
		Expect(child.Start()).To(Succeed())
		exited := make(chan error, 1)
		go func() { exited <- child.Wait() }()
		DeferCleanup(func() { _ = child.Process.Kill() })

		By("waiting until the child's fault is active")
		Eventually(ctx, func(ctx context.Context) ([]string, error) {
			return runChaos(ctx, runID)
		}).WithTimeout(interruptTimeouts.drillUnderway).ShouldNot(BeEmpty(), "child output:\n%s", &out)

		By("sending SIGINT to the child")
		sent := time.Now()
		Expect(child.Process.Signal(os.Interrupt)).To(Succeed())
		Eventually(ctx, func(ctx context.Context) ([]string, error) {
			return runChaos(ctx, runID)
		}).WithTimeout(interruptTimeouts.exit).WithPolling(100*time.Millisecond).Should(BeEmpty(), "child output:\n%s", &out)
		took := time.Since(sent)
		AddReportEntry("kill switch", fmt.Sprintf("every active fault removed %.2f s after SIGINT (limit %s)", took.Seconds(), killSwitch), ReportEntryVisibilityAlways)
		Expect(took).To(BeNumerically("<", killSwitch), "faults outlived SIGINT")

		Eventually(exited).WithTimeout(interruptTimeouts.exit).Should(Receive(HaveOccurred()),
			"the interrupted child should exit non-zero")
		Expect(out.String()).To(ContainSubstring("Interrupted"))

		left, err := drills.DrillNamespaces(ctx, env.cluster.Client, runID)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty(), "namespaces left by the interrupted drill; child output:\n%s", out.String())
	}, NodeTimeout(interruptTimeouts.drillUnderway+2*interruptTimeouts.exit+time.Minute))
})

// runChaos lists the chaos objects a run's faults created, in any namespace.
func runChaos(ctx context.Context, runID string) ([]string, error) {
	left, err := leftoverChaos(ctx, env.faults.Chaos, client.MatchingLabels{drills.LabelRun: runID})
	if err != nil {
		return nil, err
	}
	return left, nil
}
