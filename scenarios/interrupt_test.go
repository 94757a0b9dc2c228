package scenarios_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// interruptTimeouts name the waits of the interrupt check.
var interruptTimeouts = struct {
	drillUnderway, exit time.Duration
}{drillUnderway: 3 * time.Minute, exit: 3 * time.Minute}

// The interrupt check runs a real drill in a child process (this same test
// binary), sends it SIGINT while the drill is underway, and checks that the
// child removed its namespace before exiting.
var _ = Describe("interrupting a drill", Label(scenarios.LabelInterruption, scenarios.LabelSerial), Serial, func() {
	It("removes its namespace and leaves nothing behind", func(ctx SpecContext) {
		runID := "interrupt-" + time.Now().Format("150405")
		var out bytes.Buffer
		child := exec.Command(os.Args[0],
			"-ginkgo.focus="+scenarios.CanaryBadVersion.Name, "-ginkgo.label-filter=!"+scenarios.LabelInterruption,
			"-firedrill.cluster="+*flagCluster, "-firedrill.run-id="+runID,
			// The parent suite still needs Chaos Mesh after the child exits.
			"-firedrill.keep-chaos-mesh",
			"-firedrill.run-dir="+filepath.Join(env.runDir, runID))
		child.Stdout, child.Stderr = &out, &out
		Expect(child.Start()).To(Succeed())
		exited := make(chan error, 1)
		go func() { exited <- child.Wait() }()
		DeferCleanup(func() { _ = child.Process.Kill() })

		By("waiting until the child's drill has deployed its stable version")
		Eventually(ctx, func(ctx context.Context) (int, error) {
			return stableDeployments(ctx, runID)
		}).WithTimeout(interruptTimeouts.drillUnderway).Should(BeNumerically(">", 0), "child output:\n%s", &out)

		By("sending SIGINT to the child")
		Expect(child.Process.Signal(os.Interrupt)).To(Succeed())
		Eventually(exited).WithTimeout(interruptTimeouts.exit).Should(Receive(HaveOccurred()),
			"the interrupted child should exit non-zero")
		Expect(out.String()).To(ContainSubstring("Interrupted"))

		left, err := drills.DrillNamespaces(ctx, env.cluster.Client, runID)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty(), "namespaces left by the interrupted drill; child output:\n%s", out.String())
	}, NodeTimeout(interruptTimeouts.drillUnderway+interruptTimeouts.exit+time.Minute))
})

// stableDeployments counts the Deployments in the run's drill namespaces.
func stableDeployments(ctx context.Context, runID string) (int, error) {
	names, err := drills.DrillNamespaces(ctx, env.cluster.Client, runID)
	if err != nil || len(names) == 0 {
		return 0, err
	}
	return countDeployments(ctx, names[0])
}
