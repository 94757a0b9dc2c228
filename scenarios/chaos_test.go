package scenarios_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/firedrill-dev/firedrill/cluster"
	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/faults/chaosmesh"
	"github.com/firedrill-dev/firedrill/faults/kinds"
)

// chaosMeshRegistry is the registry part of the offline Chaos Mesh images:
// <registry>/chaos-mesh/chaos-mesh:<tag> and .../chaos-daemon:<tag>.
const chaosMeshRegistry = "firedrill"

// setUpFaultBackends loads the fault images into kind and installs Chaos
// Mesh from the offline images the Makefile names, each only when a
// selected drill may use it. Without them, Chaos Mesh drills are skipped
// with that reason.
func setUpFaultBackends(ctx context.Context, kind *cluster.Kind, st *shared) {
	needs := selectedBackends()
	if img := os.Getenv("FIREDRILL_TOXIPROXY_IMAGE"); img != "" && needs[kinds.Toxiproxy] {
		Expect(kind.LoadImages(ctx, img)).To(Succeed())
		st.ToxiproxyImage = img
	}
	tag, chart := os.Getenv("FIREDRILL_CHAOS_MESH_TAG"), os.Getenv("FIREDRILL_CHAOS_MESH_CHART")
	switch {
	case !needs[kinds.ChaosMesh]:
		st.ChaosMissing = "Chaos Mesh is not installed: no selected drill needs it"
		return
	case tag == "" || chart == "":
		st.ChaosMissing = "no offline Chaos Mesh images (FIREDRILL_CHAOS_MESH_TAG/CHART unset; run through make)"
		return
	}
	By("installing Chaos Mesh " + tag)
	Expect(kind.LoadImages(ctx,
		chaosMeshRegistry+"/chaos-mesh/chaos-mesh:"+tag, chaosMeshRegistry+"/chaos-mesh/chaos-daemon:"+tag)).To(Succeed())
	install := chaosInstall(tag, chart)
	Expect(install.Run(ctx)).To(Succeed())
	st.Chaos, st.ChaosTag, st.ChaosChart = true, tag, chart
}

func chaosInstall(tag, chart string) chaosmesh.Install {
	return chaosmesh.Install{
		ChartDir: chart, Registry: chaosMeshRegistry, Tag: tag,
		Kubeconfig: env.cluster.Kubeconfig, Context: env.cluster.Context,
		Client: env.cluster.Client, Log: GinkgoWriter, Labels: runLabels(),
	}
}

// runLabels mark what this run creates outside drill namespaces: the
// controllers it installs, CRDs and cluster roles included.
func runLabels() map[string]string { return map[string]string{drills.LabelRun: env.runID} }

// leftoverChaos lists chaos objects of the kinds drills use, in every
// namespace: after the suite there must be none.
func leftoverChaos(ctx context.Context, cl client.Client, opts ...client.ListOption) ([]string, error) {
	var left []string
	lists := map[string]client.ObjectList{
		"podchaos": &v1alpha1.PodChaosList{}, "networkchaos": &v1alpha1.NetworkChaosList{},
		"stresschaos": &v1alpha1.StressChaosList{}, "timechaos": &v1alpha1.TimeChaosList{},
	}
	for kind, list := range lists {
		if err := cl.List(ctx, list, opts...); err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			o, err := meta.Accessor(item)
			if err != nil {
				return nil, err
			}
			left = append(left, kind+"/"+o.GetNamespace()+"/"+o.GetName())
		}
	}
	return left, nil
}

// After the suite no chaos object may be left anywhere, and the backends
// are uninstalled cleanly unless a keep flag is set.
var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	tearDownMachineryBackends(ctx)
	tearDownChaosMesh(ctx)
	if env.lease != nil {
		Expect(env.lease.Release(ctx)).To(Succeed())
	}
}, NodeTimeout(suiteTimeouts.clusterUp))

// tearDownChaosMesh checks that no chaos object is left and uninstalls
// Chaos Mesh unless -firedrill.keep-chaos-mesh is set.
func tearDownChaosMesh(ctx context.Context) {
	if env.faults.Chaos == nil {
		return
	}
	left, err := leftoverChaos(ctx, env.faults.Chaos)
	Expect(err).NotTo(HaveOccurred())
	Expect(left).To(BeEmpty(), "chaos objects left after the suite: %s", strings.Join(left, ", "))
	if *flagKeepChaosMesh || env.chaosInstall == nil {
		return
	}
	Expect(env.chaosInstall.Uninstall(ctx)).To(Succeed())
}
