package native

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/kubetest"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// fakeNode emulates, for the commands the partition runs, a kind node with
// containerd: crictl answers from its sandboxes, and iptables keeps an INPUT
// chain per network namespace, printed the way iptables-nft 1.8 prints it.
type fakeNode struct {
	mu        sync.Mutex
	sandboxes map[types.UID]fakeSandbox
	chains    map[string][]string // netns path -> INPUT rules, as iptables -S prints them
	failOn    string              // a command prefix that fails
	ran       []string
}

type fakeSandbox struct {
	id, netns string
}

// newFakeNode returns a node running a sandbox for each pod, each with its
// own network namespace holding one unrelated rule.
func newFakeNode(pods ...*corev1.Pod) *fakeNode {
	n := &fakeNode{sandboxes: map[types.UID]fakeSandbox{}, chains: map[string][]string{}}
	for i, p := range pods {
		sb := fakeSandbox{id: fmt.Sprintf("%064x", i+1), netns: fmt.Sprintf("/var/run/netns/cni-%d", i+1)}
		n.sandboxes[p.UID] = sb
		n.chains[sb.netns] = []string{"-A INPUT -p tcp -m tcp --dport 9090 -j ACCEPT"}
	}
	return n
}

func (n *fakeNode) exec(_ context.Context, args ...string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cmd := strings.Join(args, " ")
	n.ran = append(n.ran, cmd)
	if n.failOn != "" && strings.HasPrefix(cmd, n.failOn) {
		return "boom\n", errors.New("exit status 1")
	}
	switch {
	case strings.HasPrefix(cmd, "crictl pods --label io.kubernetes.pod.uid="):
		uid, _, _ := strings.Cut(strings.TrimPrefix(cmd, "crictl pods --label io.kubernetes.pod.uid="), " ")
		if sb, ok := n.sandboxes[types.UID(uid)]; ok {
			return sb.id + "\n", nil
		}
		return "", nil
	case len(args) == 3 && args[0] == "crictl" && args[1] == "inspectp":
		return n.inspect(args[2])
	case len(args) > 4 && args[0] == "nsenter" && args[2] == "iptables" && args[3] == "-w":
		return n.iptables(strings.TrimPrefix(args[1], "--net="), args[4:])
	case len(args) == 3 && args[0] == "sh" && strings.HasPrefix(args[2], "setsid "):
		return "", nil // an expiry timer armed
	case len(args) == 3 && args[0] == "sh" && strings.HasPrefix(args[2], "pkill "):
		return "1\n", nil // one timer cancelled
	}
	return "", fmt.Errorf("fake node: unknown command %q", cmd)
}

func (n *fakeNode) inspect(id string) (string, error) {
	for uid, sb := range n.sandboxes {
		if sb.id != id {
			continue
		}
		var v sandboxInspect
		v.Status.Metadata.UID = string(uid)
		v.Info.PID = 4242
		v.Info.RuntimeSpec.Linux.Namespaces = append(v.Info.RuntimeSpec.Linux.Namespaces,
			struct {
				Type string `json:"type"`
				Path string `json:"path"`
			}{Type: "pid"},
			struct {
				Type string `json:"type"`
				Path string `json:"path"`
			}{Type: "network", Path: sb.netns})
		raw, err := json.MarshalIndent(v, "", "  ")
		return string(raw), err
	}
	return `time="2026-11-26T11:15:16Z" level=fatal msg="get the status of pod sandboxes: not found"` + "\n", errors.New("exit status 1")
}

// iptables emulates -S, -I and -D on the INPUT chain of one namespace.
func (n *fakeNode) iptables(netns string, args []string) (string, error) {
	rules, ok := n.chains[netns]
	if !ok {
		return "nsenter: cannot open " + netns + ": No such file or directory\n", errors.New("exit status 1")
	}
	if len(args) < 2 || args[1] != "INPUT" {
		return "", fmt.Errorf("fake node: iptables %q", args)
	}
	switch args[0] {
	case "-S":
		return "-P INPUT ACCEPT\n" + strings.Join(append(rules, ""), "\n"), nil
	case "-I":
		n.chains[netns] = append([]string{printed(args[2:])}, rules...)
		return "", nil
	case "-D":
		i := slices.Index(rules, printed(args[2:]))
		if i < 0 {
			return "iptables: Bad rule (does a matching rule exist in that chain?).\n", errors.New("exit status 1")
		}
		n.chains[netns] = slices.Delete(rules, i, i+1)
		return "", nil
	}
	return "", fmt.Errorf("fake node: iptables %q", args)
}

// printed renders a rule spec the way iptables -S lists it, which adds the
// implicit "-m tcp" match before --dport.
func printed(spec []string) string {
	line := "-A INPUT " + strings.Join(spec, " ")
	return strings.Replace(line, "-p tcp --dport", "-p tcp -m tcp --dport", 1)
}

func (n *fakeNode) rules(netns string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.chains[netns])
}

func (n *fakeNode) commands(prefix string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, c := range n.ran {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

const partitionRule = "-A INPUT -p tcp -m tcp --dport 8080 -m comment --comment firedrill-partition -j DROP"

func partitionSetup(t *testing.T, pods ...*corev1.Pod) (*IptablesPartitionFault, *fakeNode) {
	t.Helper()
	objs := make([]runtime.Object, len(pods))
	for i, p := range pods {
		objs[i] = p
	}
	node := newFakeNode(pods...)
	f, err := IptablesPartition(kubetest.FakeClient(t, objs...), node.exec, testNS, stableSel, 8080)
	if err != nil {
		t.Fatal(err)
	}
	return f, node
}

func TestIptablesPartitionLifecycle(t *testing.T) {
	ctx := kubetest.Context(t)
	f, node := partitionSetup(t, appPod("app-1", true, goodImage), appPod("app-2", true, goodImage), appPod("app-3", false, goodImage))

	onset, err := f.Inject(ctx)
	if err != nil || onset.IsZero() {
		t.Fatalf("Inject() = %s, %v", onset, err)
	}
	for _, ns := range []string{"/var/run/netns/cni-1", "/var/run/netns/cni-2"} {
		want := []string{partitionRule, "-A INPUT -p tcp -m tcp --dport 9090 -j ACCEPT"}
		if got := node.rules(ns); !slices.Equal(got, want) {
			t.Errorf("rules in %s = %q, want %q", ns, got, want)
		}
	}
	if got := node.rules("/var/run/netns/cni-3"); len(got) != 1 {
		t.Errorf("the NotReady pod's namespace was touched: %q", got)
	}
	wantCmds := []string{
		"crictl pods --label io.kubernetes.pod.uid=uid-app-1 --state ready -q",
		"crictl pods --label io.kubernetes.pod.uid=uid-app-2 --state ready -q",
	}
	if got := node.commands("crictl pods"); !slices.Equal(got, wantCmds) {
		t.Errorf("sandbox lookups = %q, want %q", got, wantCmds)
	}
	wantErr(t, f.Verify(ctx), "native: network-partition: verify: firedrill-partition rules left in pod(s) app-1 (1), app-2 (1)")

	// A second Inject does not stack rules.
	if _, err := f.Inject(ctx); err != nil {
		t.Fatalf("second Inject() = %v", err)
	}
	if got := node.commands("nsenter --net=/var/run/netns/cni-1 iptables -w -I"); len(got) != 1 {
		t.Errorf("inserts in cni-1 = %q, want one", got)
	}

	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	for _, ns := range []string{"/var/run/netns/cni-1", "/var/run/netns/cni-2"} {
		if got, want := node.rules(ns), []string{"-A INPUT -p tcp -m tcp --dport 9090 -j ACCEPT"}; !slices.Equal(got, want) {
			t.Errorf("rules in %s after Recover = %q, want only the unrelated rule", ns, got)
		}
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() after Recover = %v", err)
	}
	deletes := len(node.commands("nsenter --net=/var/run/netns/cni-1 iptables -w -D"))
	if err := f.Recover(ctx); err != nil {
		t.Errorf("second Recover() = %v", err)
	}
	if again := len(node.commands("nsenter --net=/var/run/netns/cni-1 iptables -w -D")); again != deletes {
		t.Errorf("second Recover() ran %d more delete(s) on a clean chain", again-deletes)
	}
}

func TestIptablesPartitionRecoverAfterPodGone(t *testing.T) {
	ctx := kubetest.Context(t)
	f, node := partitionSetup(t, appPod("app-1", true, goodImage), appPod("app-2", true, goodImage))
	if _, err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	delete(node.chains, "/var/run/netns/cni-1") // the pod was deleted with its namespace
	node.mu.Unlock()
	if err := f.Recover(ctx); err != nil {
		t.Fatalf("Recover() = %v", err)
	}
	if got := node.rules("/var/run/netns/cni-2"); len(got) != 1 {
		t.Errorf("rules left in cni-2 = %q", got)
	}
	if err := f.Verify(ctx); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}

func TestIptablesPartitionRecoverKeepsGoing(t *testing.T) {
	ctx := kubetest.Context(t)
	f, node := partitionSetup(t, appPod("app-1", true, goodImage), appPod("app-2", true, goodImage))
	if _, err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	node.failOn = "nsenter --net=/var/run/netns/cni-1 "
	node.mu.Unlock()
	err := f.Recover(ctx)
	if err == nil || !strings.Contains(err.Error(), "recover pod "+testNS+"/app-1") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Recover() = %v, want the failing pod and its command output", err)
	}
	if got := node.rules("/var/run/netns/cni-2"); len(got) != 1 {
		t.Errorf("one failing namespace stopped the others from recovering: cni-2 has %q", got)
	}
}

func TestIptablesPartitionVerifyFindsAnyMarkedRule(t *testing.T) {
	ctx := kubetest.Context(t)
	f, node := partitionSetup(t, appPod("app-1", true, goodImage))
	if _, err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	node.chains["/var/run/netns/cni-1"] = append(node.chains["/var/run/netns/cni-1"],
		`-A INPUT -p tcp -m tcp --dport 9090 -m comment --comment "firedrill-partition" -j DROP`)
	node.mu.Unlock()
	wantErr(t, f.Verify(ctx), "firedrill-partition rules left in pod(s) app-1 (1)")
}

func TestIptablesPartitionRefusesBeforeChangingAnything(t *testing.T) {
	hostNet := appPod("app-2", true, goodImage)
	hostNet.Spec.HostNetwork = true
	elsewhere := appPod("app-2", true, goodImage)
	elsewhere.Spec.NodeName = "firedrill-worker"
	tests := []struct {
		name  string
		pod   *corev1.Pod
		setup func(*fakeNode)
		want  []string
	}{
		{"host network", hostNet, nil, []string{"pod " + testNS + "/app-2 uses the host network"}},
		{"no sandbox on the exec node", elsewhere, func(n *fakeNode) { delete(n.sandboxes, "uid-app-2") },
			[]string{"pod " + testNS + "/app-2 (node firedrill-worker) has 0 ready sandbox(es) on the exec node"}},
		{"crictl fails", appPod("app-2", true, goodImage), func(n *fakeNode) { n.failOn = "crictl inspectp" },
			[]string{"crictl inspectp", "exit status 1: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, node := partitionSetup(t, appPod("app-1", true, goodImage), tt.pod)
			if tt.setup != nil {
				tt.setup(node)
			}
			_, err := f.Inject(kubetest.Context(t))
			wantErr(t, err, append([]string{"native: network-partition: "}, tt.want...)...)
			if got := node.commands("nsenter"); len(got) > 0 {
				t.Errorf("ran %q before every target was resolved", got)
			}
			if err := f.Recover(t.Context()); err != nil {
				t.Errorf("Recover() after a refused Inject = %v", err)
			}
		})
	}
}

func TestIptablesPartitionNoReadyPod(t *testing.T) {
	f, node := partitionSetup(t, appPod("app-1", false, goodImage))
	_, err := f.Inject(kubetest.Context(t))
	wantErr(t, err, "native: network-partition: no Ready pod matches")
	if len(node.ran) > 0 {
		t.Errorf("ran %q", node.ran)
	}
}

func TestSandboxNetns(t *testing.T) {
	real, err := os.ReadFile("testdata/crictl-inspectp.json")
	if err != nil {
		t.Fatal(err)
	}
	const realUID = "f9328340-9f3d-4911-aa73-c533772b50aa"
	tests := []struct {
		name    string
		out     string
		uid     types.UID
		want    string
		wantErr string
	}{
		{"kind node", string(real), realUID, "/var/run/netns/cni-7fc6960f-f995-94d3-4b25-213b61433ffc", ""},
		{"after a crictl warning", "WARN[0000] image connect using default endpoints\n" + string(real), realUID, "/var/run/netns/cni-7fc6960f-f995-94d3-4b25-213b61433ffc", ""},
		{"another pod's sandbox", string(real), "uid-other", "", `sandbox belongs to pod UID "` + realUID + `", want "uid-other"`},
		{"pid only", `{"status":{"metadata":{"uid":"u"}},"info":{"pid":77,"runtimeSpec":{"linux":{"namespaces":[{"type":"network"}]}}}}`, "u", "/proc/77/ns/net", ""},
		{"neither", `{"status":{"metadata":{"uid":"u"}},"info":{}}`, "u", "", "names neither a network namespace path nor a pid"},
		{"closed", `{"status":{"metadata":{"uid":"u"}},"info":{"pid":77,"netNamespaceClosed":true}}`, "u", "", "network namespace is closed"},
		{"no JSON", "level=fatal msg=\"not found\"\n", "u", "", "printed no JSON"},
		{"bad JSON", "{", "u", "", "parse crictl inspectp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sandboxNetns(tt.out, tt.uid)
			if tt.wantErr != "" {
				wantErr(t, err, tt.wantErr)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("sandboxNetns() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSandboxIDs(t *testing.T) {
	id := strings.Repeat("ab", 32)
	out := "WARN[0000] runtime connect using default endpoints\n" + id + "\n\n"
	if got := sandboxIDs(out); !slices.Equal(got, []string{id}) {
		t.Errorf("sandboxIDs() = %q, want [%s]", got, id)
	}
	if got := sandboxIDs(""); len(got) != 0 {
		t.Errorf("sandboxIDs(\"\") = %q", got)
	}
}

func TestCountRules(t *testing.T) {
	f := &IptablesPartitionFault{port: 8080}
	out := strings.Join([]string{
		"-P INPUT ACCEPT",
		partitionRule,
		partitionRule,
		`-A INPUT -p tcp -m tcp --dport 8080 -m comment --comment "firedrill-partition" -j DROP`,
		"-A INPUT -p tcp -m tcp --dport 9090 -m comment --comment firedrill-partition -j DROP",
		"-A INPUT -p tcp -m tcp --dport 8080 -m comment --comment someone-else -j DROP",
		"-A INPUT -p tcp -m tcp --dport 8080 -j DROP",
		"-A OUTPUT -p tcp -m tcp --dport 8080 -m comment --comment firedrill-partition -j DROP",
	}, "\n")
	if got, want := f.count(out), (ruleCount{exact: 3, marked: 4}); got != want {
		t.Errorf("count() = %+v, want %+v", got, want)
	}
}

// TestIptablesPartitionArmsItsExpiry checks that Inject arms the node timer
// before the first rule goes in, that its script deletes the rule from
// every target namespace, and that Recover cancels it before deleting.
func TestIptablesPartitionArmsItsExpiry(t *testing.T) {
	ctx := kubetest.Context(t)
	f, node := partitionSetup(t, appPod("app-1", true, goodImage), appPod("app-2", true, goodImage))
	f.SetExpiry(faults.Expiry{Run: "r1", After: 30 * time.Second})
	if _, err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	armed := node.commands("sh -c setsid")
	if len(armed) != 1 {
		t.Fatalf("timers armed = %q, want one", armed)
	}
	launch := strings.ReplaceAll(strings.ReplaceAll(armed[0], `'\''`, ""), "'", "") // the shell quoting, taken off
	for _, ns := range []string{"cni-1", "cni-2"} {
		del := "nsenter --net=/var/run/netns/" + ns + " iptables -w -D INPUT -p tcp --dport 8080 -m comment --comment firedrill-partition -j DROP"
		if !strings.Contains(launch, del) {
			t.Errorf("the timer does not delete the rule in %s: %s", ns, armed[0])
		}
	}
	if !strings.HasPrefix(launch, "sh -c setsid sh -c sleep 30.000; ") || !strings.HasSuffix(launch, " firedrill-expiry:r1:network-partition-drill-native-test </dev/null >/dev/null 2>&1 &") {
		t.Errorf("timer launch = %s", armed[0])
	}
	if first, insert := slices.Index(node.ran, armed[0]), slices.IndexFunc(node.ran, func(c string) bool { return strings.Contains(c, "iptables -w -I") }); first > insert {
		t.Errorf("the timer was armed after the first rule went in")
	}
	if err := f.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got := node.commands("sh -c pkill"); len(got) != 1 || !strings.Contains(got[0], "[f]iredrill-expiry:r1:network-partition-drill-native-test") {
		t.Errorf("cancels = %q", got)
	}
	if got := f.ExpiresBy(); !strings.Contains(got, "30s after injection") {
		t.Errorf("ExpiresBy() = %q", got)
	}
}
