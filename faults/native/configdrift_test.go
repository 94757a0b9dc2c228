package native

import (
	"maps"
	"strconv"
	"sync"
	"testing"

	"github.com/firedrill-dev/firedrill/internal/kubetest"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func configMap(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "app-config"}, Data: data}
}

// configClient returns a fake clientset holding cm that, like the API
// server and unlike the bare fake, gives every write of a ConfigMap a new
// resourceVersion.
func configClient(t *testing.T, cm *corev1.ConfigMap) *fake.Clientset {
	t.Helper()
	var objs []runtime.Object
	if cm != nil {
		cm.ResourceVersion = "1"
		objs = append(objs, cm)
	}
	client := kubetest.FakeClient(t, objs...)
	var mu sync.Mutex
	version := 1
	write := func(action k8stesting.Action) (bool, runtime.Object, error) {
		handled, obj, err := k8stesting.ObjectReaction(client.Tracker())(action)
		if err != nil || !handled {
			return handled, obj, err
		}
		mu.Lock()
		version++
		obj.(*corev1.ConfigMap).ResourceVersion = strconv.Itoa(version)
		mu.Unlock()
		return true, obj, client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("configmaps"), obj, testNS)
	}
	client.PrependReactor("patch", "configmaps", write)
	client.PrependReactor("update", "configmaps", write)
	return client
}

func readConfig(t *testing.T, client *fake.Clientset) *corev1.ConfigMap {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps(testNS).Get(t.Context(), "app-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func TestConfigDriftLifecycle(t *testing.T) {
	ctx := kubetest.Context(t)
	original := map[string]string{"timeout": "1s", "backend": "db:5432"}
	client := configClient(t, configMap(maps.Clone(original)))
	before := readConfig(t, client).ResourceVersion
	f, err := ConfigDrift(client, testNS, "app-config", map[string]string{"backend": "db.invalid:5432", "retries": "0"})
	if err != nil {
		t.Fatal(err)
	}

	onset, err := f.Inject(ctx)
	if err != nil || onset.IsZero() {
		t.Fatalf("Inject() = %s, %v", onset, err)
	}
	cm := readConfig(t, client)
	want := map[string]string{"timeout": "1s", "backend": "db.invalid:5432", "retries": "0"}
	if !maps.Equal(cm.Data, want) {
		t.Errorf("data after Inject = %v, want %v", cm.Data, want)
	}
	if cm.ResourceVersion == before {
		t.Errorf("resourceVersion unchanged at %s", before)
	}
	wantErr(t, f.Verify(ctx), "native: config-drift: verify: configmap "+testNS+"/app-config differs from the original at key(s) [backend retries]")

	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if got := readConfig(t, client).Data; !maps.Equal(got, original) {
		t.Errorf("data after Recover = %v, want the original %v (added keys removed)", got, original)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after Recover = %v", err)
	}
	rv := readConfig(t, client).ResourceVersion
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
	if again := readConfig(t, client).ResourceVersion; again != rv {
		t.Errorf("second Recover() wrote the ConfigMap (resourceVersion %s -> %s)", rv, again)
	}
}

func TestConfigDriftRefusesNoChange(t *testing.T) {
	client := configClient(t, configMap(map[string]string{"backend": "db:5432"}))
	f, err := ConfigDrift(client, testNS, "app-config", map[string]string{"backend": "db:5432"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Inject(kubetest.Context(t))
	wantErr(t, err, "already holds the drifted values")
}

func TestConfigDriftEmptyConfigMap(t *testing.T) {
	ctx := kubetest.Context(t)
	client := configClient(t, configMap(nil))
	f, err := ConfigDrift(client, testNS, "app-config", map[string]string{"flag": "on"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Inject(ctx); err != nil {
		t.Fatalf("Inject() = %v", err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if got := readConfig(t, client).Data; len(got) != 0 {
		t.Errorf("data after Recover = %v, want none", got)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}

func TestConfigDriftMissingConfigMap(t *testing.T) {
	f, err := ConfigDrift(configClient(t, nil), testNS, "app-config", map[string]string{"flag": "on"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Inject(kubetest.Context(t))
	wantErr(t, err, "native: config-drift: get configmap "+testNS+"/app-config")
	if err := f.Recover(t.Context()); err != nil {
		t.Errorf("Recover() after a failed Inject = %v", err)
	}
}

func TestConfigDriftCopiesData(t *testing.T) {
	data := map[string]string{"flag": "on"}
	f, err := ConfigDrift(kubetest.FakeClient(t), testNS, "app-config", data)
	if err != nil {
		t.Fatal(err)
	}
	data["flag"] = "off"
	if f.data["flag"] != "on" {
		t.Error("the fault shares the caller's map")
	}
}

// TestConfigDriftUnconfirmed checks that onset is not assumed: a patch
// whose effect is not read back under a new resourceVersion fails Inject.
// The bare fake clientset keeps resourceVersions out of objects, so the
// drifted data comes back under an unchanged resourceVersion, which cannot be
// told apart from a stale read.
func TestConfigDriftUnconfirmed(t *testing.T) {
	client := kubetest.FakeClient(t, configMap(map[string]string{"flag": "off"}))
	f, err := ConfigDrift(client, testNS, "app-config", map[string]string{"flag": "on"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Inject(kubetest.Context(t))
	wantErr(t, err, "does not hold the drift after the patch")
}
