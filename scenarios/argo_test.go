package scenarios_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/reports"
	"github.com/firedrill-dev/firedrill/rollback"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// flagServerImageEnv names the flag server image, which the feature-flag
// machinery runs in each drill namespace.
const flagServerImageEnv = "FIREDRILL_FLAG_SERVER_IMAGE"

// flaggerImageEnv names the Flagger image (the controller, and the webhook
// receiver the flagger machinery runs in each drill namespace);
// flaggerModuleEnv the Flagger module, which holds its CRDs and RBAC.
const (
	flaggerImageEnv  = "FIREDRILL_FLAGGER_IMAGE"
	flaggerModuleEnv = "FIREDRILL_FLAGGER_MODULE_DIR"
)

// setUpMachineryBackends, on process 1 of a kind suite, loads the offline
// Argo Rollouts and Prometheus images and installs both, when a selected
// drill's machinery needs them. On an existing cluster nothing is
// installed: the machinery's preflight refuses a cluster without them.
func setUpMachineryBackends(ctx context.Context, kind *cluster.Kind, st *shared) {
	needs := selectedBackends()
	if needs[rollback.BackendFlagServer] {
		image := os.Getenv(flagServerImageEnv)
		Expect(image).NotTo(BeEmpty(), flagServerImageEnv+" is not set: run through `make drill` or `make test`")
		By("loading the flag server " + image)
		Expect(kind.LoadImages(ctx, image)).To(Succeed())
	}
	if needs[rollback.BackendFlagger] {
		setUpFlagger(ctx, kind, st)
	}
	if !needs[rollback.BackendArgoRollouts] && !needs[rollback.BackendPrometheus] {
		return
	}
	argoImage, manifest := os.Getenv("FIREDRILL_ARGO_ROLLOUTS_IMAGE"), os.Getenv("FIREDRILL_ARGO_ROLLOUTS_MANIFEST")
	promImage := os.Getenv("FIREDRILL_PROMETHEUS_IMAGE")
	Expect(argoImage).NotTo(BeEmpty(), "FIREDRILL_ARGO_ROLLOUTS_IMAGE is not set: run through `make drill` or `make test`")
	Expect(promImage).NotTo(BeEmpty(), "FIREDRILL_PROMETHEUS_IMAGE is not set: run through `make drill` or `make test`")
	By("loading " + argoImage + " and " + promImage)
	Expect(kind.LoadImages(ctx, argoImage, promImage)).To(Succeed())
	applier := newApplier()
	// The controller resolves the Prometheus and canary Service names;
	// cluster readiness does not wait for CoreDNS (see the README).
	_, err := kube.WaitDeployment(ctx, env.cluster.Client, "kube-system", "coredns", func(d *appsv1.Deployment) (bool, error) {
		return d.Status.AvailableReplicas > 0, nil
	})
	Expect(err).NotTo(HaveOccurred(), "CoreDNS never became available")
	By("installing Prometheus and Argo Rollouts " + argoImage)
	Expect(prometheusInstall(applier, promImage).Run(ctx)).To(Succeed())
	took, already, err := argoInstall(applier, argoImage, manifest).Run(ctx)
	Expect(err).NotTo(HaveOccurred())
	how := "fresh install"
	if already {
		how = "already installed, kept by -firedrill.keep-argo-rollouts"
	}
	line := fmt.Sprintf("%.1f s %s", took.Seconds(), how)
	AddReportEntry("argo-rollouts install", line)
	Expect(os.WriteFile(filepath.Join(env.runDir, "argo-install.txt"), []byte(line+"\n"), 0o644)).To(Succeed())
	st.Argo = true
}

// setUpFlagger loads the Flagger image and installs the controller; its
// install time is printed and kept in flagger-install.txt.
func setUpFlagger(ctx context.Context, kind *cluster.Kind, st *shared) {
	image, module := os.Getenv(flaggerImageEnv), os.Getenv(flaggerModuleEnv)
	Expect(image).NotTo(BeEmpty(), flaggerImageEnv+" is not set: run through `make drill` or `make test`")
	Expect(module).NotTo(BeEmpty(), flaggerModuleEnv+" is not set: run through `make drill` or `make test`")
	By("loading and installing Flagger " + image)
	Expect(kind.LoadImages(ctx, image)).To(Succeed())
	took, already, err := flaggerInstall(newApplier()).Run(ctx)
	Expect(err).NotTo(HaveOccurred())
	line := fmt.Sprintf("%.1f s (already installed: %t)", took.Seconds(), already)
	AddReportEntry("flagger install", line)
	Expect(os.WriteFile(filepath.Join(env.runDir, "flagger-install.txt"), []byte(line+"\n"), 0o644)).To(Succeed())
	st.Flagger = true
}

func flaggerInstall(a *kube.Applier) rollback.FlaggerInstall {
	return rollback.FlaggerInstall{ModuleDir: os.Getenv(flaggerModuleEnv), Image: os.Getenv(flaggerImageEnv), Client: env.cluster.Client, Applier: a, Log: GinkgoWriter}
}

func newApplier() *kube.Applier {
	disc, err := discovery.NewDiscoveryClientForConfig(env.cluster.REST)
	Expect(err).NotTo(HaveOccurred())
	dyn, err := dynamic.NewForConfig(env.cluster.REST)
	Expect(err).NotTo(HaveOccurred())
	a, err := kube.NewApplier(disc, dyn)
	Expect(err).NotTo(HaveOccurred())
	a.Labels = runLabels()
	return a
}

func prometheusInstall(a *kube.Applier, image string) rollback.PrometheusInstall {
	return rollback.PrometheusInstall{Image: image, Client: env.cluster.Client, Applier: a, Log: GinkgoWriter}
}

func argoInstall(a *kube.Applier, image, manifest string) rollback.ArgoInstall {
	return rollback.ArgoInstall{Manifest: manifest, Image: image, Client: env.cluster.Client, Applier: a, Log: GinkgoWriter}
}

// tearDownMachineryBackends removes what setUpMachineryBackends installed,
// unless -firedrill.keep-argo-rollouts is set.
func tearDownMachineryBackends(ctx context.Context) {
	if *flagKeepArgo {
		return
	}
	a := newApplier()
	if env.flaggerInstalled {
		Expect(flaggerInstall(a).Uninstall(ctx)).To(Succeed())
	}
	if !env.argoInstalled {
		return
	}
	Expect(argoInstall(a, os.Getenv("FIREDRILL_ARGO_ROLLOUTS_IMAGE"), os.Getenv("FIREDRILL_ARGO_ROLLOUTS_MANIFEST")).Uninstall(ctx)).To(Succeed())
	Expect(prometheusInstall(a, os.Getenv("FIREDRILL_PROMETHEUS_IMAGE")).Uninstall(ctx)).To(Succeed())
}

// withArgoConfig gives the argo-rollouts drills that are not expect:caught
// the team's own analysis file, when -firedrill.argo-config names one.
func withArgoConfig(s drills.Scenario) drills.Scenario {
	if *flagArgoConfig == "" || s.MachineryName() != rollback.ArgoRollouts || slices.Contains(s.Labels, scenarios.LabelCaught) {
		return s
	}
	data, err := os.ReadFile(*flagArgoConfig)
	if err != nil {
		Fail(fmt.Sprintf("-firedrill.argo-config: %v", err))
	}
	s.MachineryConfig = rollback.Config{Name: filepath.Base(*flagArgoConfig), Data: data}
	return s
}

// describeArgoCaught runs an Argo drill whose analysis lies: the controller
// promotes a canary users see failing. The spec asserts the exact verdict:
// fail, because the machinery promoted a version users saw failing.
func describeArgoCaught(s drills.Scenario, repeat int) {
	describeDrill(s, repeat, func(d **drills.Drill) {
		It("rolls back", func(ctx SpecContext) {
			Expect((*d).AwaitRollback(ctx)).To(Succeed())
		}, NodeTimeout(timeouts.Rollback))

		It("fails the drill because the machinery kept a version users saw failing", func(ctx SpecContext) {
			Expect((*d).ConfirmRestored(ctx)).To(Succeed())
			r := (*d).Result()
			Expect(r.Verdict).To(Equal(reports.VerdictFail))
			Expect(r.Breached).To(BeTrue(), "users saw the SLO break")
			Expect(r.ErrorBudget.Failed).To(BeNumerically(">", 0))
			if s.Name == scenarios.ArgoPartition.Name {
				// Neither abort nor promotion: the analysis still passes
				// when the budget runs out, and the Rollout hangs.
				Expect(r.Why).To(HavePrefix(fmt.Sprintf("%s declared %s healthy past the %s budget, a version users saw failing: ", rollback.ArgoRollouts, s.Canary.Name, s.Budget)))
				Expect(r.Why).To(MatchRegexp(`; Rollout \w+.*; AnalysisRun \S+ Running: [1-9]\d* Successful, 0 Failed`))
				Expect(r.Promoted).To(BeEmpty())
				return
			}
			Expect(r.Why).To(HavePrefix(fmt.Sprintf("%s promoted %s, a version users saw failing: ", rollback.ArgoRollouts, s.Canary.Name)))
			Expect(r.Why).To(ContainSubstring("; the controller promoted " + s.Canary.Name + ": Healthy"))
			Expect(r.Serving.Versions).To(Equal([]string{s.Canary.Name}), "the bad canary is now stable: %s", r.Serving.Detail)
		}, NodeTimeout(timeouts.Restore))
	})
}

// brokenArgoConfigs are AnalysisTemplate files a team might get wrong, with
// what the one-line error must say.
var brokenArgoConfigs = []struct {
	file, want string
}{
	{"unknown-provider.yaml", `AnalysisTemplate error-ratio: spec.metrics[0].provider: unknown provider "promethues"`},
	{"bad-query.yaml", "AnalysisTemplate error-ratio: metric canary-error-ratio: bad query: "},
	{"wrong-field.yaml", `AnalysisTemplate error-ratio refused: `},
}

// argoBrokenConfig is the scenario the broken files are tried with (the
// suite also selects backends by it).
var argoBrokenConfig = func() drills.Scenario {
	s := scenarios.ArgoBadVersion
	s.Name, s.Labels = "argo-broken-config", append([]string{"config"}, s.Labels...)
	return s
}()

// describeBrokenArgoConfigs proves that a broken analysis file is refused
// in one line naming the problem, and that nothing is left in the cluster.
func describeBrokenArgoConfigs() {
	Describe("argo-rollouts refuses a broken analysis file", Label(append(argoBrokenConfig.Labels, scenarios.MachineryLabel(argoBrokenConfig))...), func() {
		for _, c := range brokenArgoConfigs {
			It("refuses "+c.file, func(ctx SpecContext) {
				data, err := os.ReadFile(filepath.Join("testdata", c.file))
				Expect(err).NotTo(HaveOccurred())
				s := argoBrokenConfig
				s.MachineryConfig = rollback.Config{Name: c.file, Data: data}
				err = runBrokenConfig(ctx, s)
				GinkgoWriter.Println("refused:", err)
				Expect(err).To(MatchError(ContainSubstring(c.file + ": " + c.want)))
				Expect(err.Error()).NotTo(ContainSubstring("\n"), "one line")
				Eventually(ctx, func(ctx context.Context) ([]string, error) {
					return drillNamespaces(ctx, s.Name)
				}).Should(BeEmpty(), "the refused drill left its namespace")
			}, NodeTimeout(timeouts.Namespace+timeouts.StableReady+timeouts.Cleanup))
		}
	})
}

// runBrokenConfig runs a drill up to its stable version, as the suite does,
// and returns the first error: from the scenario check, the preflight or
// the deploy. The namespace, if one was made, is removed before it returns.
func runBrokenConfig(ctx context.Context, s drills.Scenario) (err error) {
	d, err := drills.New(ctx, env.cluster, s, drillOptions(ctx))
	if err != nil {
		return err
	}
	if err := d.Preflight(ctx); err != nil {
		return err
	}
	defer func() {
		if cerr := d.Cleanup(ctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := d.CreateNamespace(ctx); err != nil {
		return err
	}
	return d.DeployStable(ctx)
}

// drillNamespaces lists the namespaces of a scenario's drills.
func drillNamespaces(ctx context.Context, scenario string) ([]string, error) {
	list, err := env.cluster.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: drills.LabelScenario + "=" + scenario})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ns := range list.Items {
		names = append(names, ns.Name+" ("+strings.ToLower(string(ns.Status.Phase))+")")
	}
	return names, nil
}
