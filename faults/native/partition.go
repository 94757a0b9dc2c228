package native

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/faults"
	"github.com/firedrill-dev/firedrill/internal/expiry"
)

// partitionComment marks every rule the partition adds, so that Recover and
// Verify find exactly those rules and never touch anyone else's.
const partitionComment = "firedrill-partition"

// IptablesPartitionFault drops inbound TCP to one port of the target pods,
// inside their own network namespaces, the way a broken network policy or a
// host firewall change does. Everything that reaches the pods on that port
// is dropped, the kubelet's readiness probe included, so the pods also leave
// the Service's endpoints once the probe fails.
//
// The rules are added through the kind node with nsenter, because a pod's
// network namespace is reachable only from its node. Exec runs on one node,
// so a target pod scheduled elsewhere is an error at Inject, not a silent
// miss.
type IptablesPartitionFault struct {
	client   kubernetes.Interface
	exec     faults.Exec
	ns       string
	selector string
	port     int
	expiry   faults.Expiry

	mu      sync.Mutex
	targets []netnsTarget
}

// netnsTarget is one target pod and the network namespace its rule went
// into, remembered so that Recover and Verify look in the same place even
// after the pod is gone.
type netnsTarget struct {
	pod   podRef
	netns string
}

var _ faults.Expiring = (*IptablesPartitionFault)(nil)

// IptablesPartition returns a network-partition fault that drops inbound TCP
// to port on the pods of ns matching selector, running its commands on a
// node through exec.
func IptablesPartition(client kubernetes.Interface, exec faults.Exec, ns, selector string, port int) (*IptablesPartitionFault, error) {
	const fault = "network-partition"
	if err := checkCommon(fault, client, ns); err != nil {
		return nil, err
	}
	if exec == nil {
		return nil, fmt.Errorf("native: %s: exec is nil", fault)
	}
	if err := checkSelector(fault, selector); err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("native: %s: port %d is outside 1-65535", fault, port)
	}
	return &IptablesPartitionFault{client: client, exec: exec, ns: ns, selector: selector, port: port}, nil
}

// Name implements faults.Fault.
func (f *IptablesPartitionFault) Name() string { return "network-partition" }

// Backend implements faults.Fault.
func (f *IptablesPartitionFault) Backend() string { return backend }

// SetExpiry implements faults.Expiring.
func (f *IptablesPartitionFault) SetExpiry(e faults.Expiry) { f.expiry = e }

// ExpiresBy implements faults.Expiring.
func (f *IptablesPartitionFault) ExpiresBy() string {
	if f.expiry.After <= 0 {
		return "nothing: no expiry set; the rules go when firedrill cleanup deletes the pods"
	}
	return fmt.Sprintf("a timer in its own session on the node deletes the rules %s after injection", f.expiry.After)
}

func (f *IptablesPartitionFault) marker() string {
	return expiry.Marker(f.expiry.Run, f.Name()+"-"+f.ns)
}

// Inject finds every Ready target pod's network namespace before it changes
// anything, so that a pod it cannot reach leaves no half-made partition,
// arms the node timer that deletes the rules should the harness die, then
// adds the DROP rule in each and confirms onset when iptables lists the
// rule in every one. That is the control-plane side; the observer confirms
// that traffic actually stops.
func (f *IptablesPartitionFault) Inject(ctx context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	targets, err := f.resolve(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: network-partition: %w", err)
	}
	f.remember(targets)
	if err := f.arm(ctx, targets); err != nil {
		return time.Time{}, fmt.Errorf("native: network-partition: %w", err)
	}
	for _, t := range targets {
		if err := f.insert(ctx, t); err != nil {
			return time.Time{}, fmt.Errorf("native: network-partition: %w", err)
		}
	}
	at, err := f.confirm(ctx, targets)
	if err != nil {
		return time.Time{}, fmt.Errorf("native: network-partition: confirm: %w", err)
	}
	return at, nil
}

// arm starts the node timer that deletes the rule from every target's
// network namespace once the expiry is past.
func (f *IptablesPartitionFault) arm(ctx context.Context, targets []netnsTarget) error {
	if f.expiry.After <= 0 {
		return nil
	}
	undo := make([][]string, len(targets))
	for i, t := range targets {
		undo[i] = f.iptables(t, append([]string{"-D", "INPUT"}, f.ruleSpec()...)...)
	}
	return expiry.Start(ctx, expiry.Shell(f.exec), f.marker(), f.expiry.After, undo...)
}

// remember adds targets to those Recover cleans, keeping the ones of an
// earlier Inject whose pods may have been replaced since.
func (f *IptablesPartitionFault) remember(targets []netnsTarget) {
	for _, t := range targets {
		if !slices.ContainsFunc(f.targets, func(k netnsTarget) bool { return k.netns == t.netns }) {
			f.targets = append(f.targets, t)
		}
	}
}

// confirm returns the instant the rule was seen listed in the last of the
// targets.
func (f *IptablesPartitionFault) confirm(ctx context.Context, targets []netnsTarget) (time.Time, error) {
	var at time.Time
	for _, t := range targets {
		rules, gone, err := f.rules(ctx, t)
		switch {
		case err != nil:
			return time.Time{}, err
		case gone || rules.exact == 0:
			return time.Time{}, fmt.Errorf("rule not listed in the network namespace of pod %s/%s after insert", f.ns, t.pod.Name)
		}
		at = time.Now()
	}
	return at, nil
}

// resolve finds the network namespaces of the Ready target pods.
func (f *IptablesPartitionFault) resolve(ctx context.Context) ([]netnsTarget, error) {
	pods, err := readyPods(ctx, f.client, f.ns, f.selector)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("no Ready pod matches %q in %s", f.selector, f.ns)
	}
	targets := make([]netnsTarget, 0, len(pods))
	for _, p := range pods {
		t, err := f.netnsOf(ctx, p)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	return targets, nil
}

// netnsOf finds a pod's sandbox by its UID label, which unlike crictl's
// --name (a regular expression) cannot match another pod, and reads the
// sandbox's network namespace from the runtime.
func (f *IptablesPartitionFault) netnsOf(ctx context.Context, p *corev1.Pod) (netnsTarget, error) {
	if p.Spec.HostNetwork {
		return netnsTarget{}, fmt.Errorf("pod %s/%s uses the host network; a rule there would cut the node", f.ns, p.Name)
	}
	out, err := f.run(ctx, "crictl", "pods", "--label", "io.kubernetes.pod.uid="+string(p.UID), "--state", "ready", "-q")
	if err != nil {
		return netnsTarget{}, err
	}
	ids := sandboxIDs(out)
	if len(ids) != 1 {
		return netnsTarget{}, fmt.Errorf("pod %s/%s (node %s) has %d ready sandbox(es) on the exec node, want 1",
			f.ns, p.Name, p.Spec.NodeName, len(ids))
	}
	out, err = f.run(ctx, "crictl", "inspectp", ids[0])
	if err != nil {
		return netnsTarget{}, err
	}
	netns, err := sandboxNetns(out, p.UID)
	if err != nil {
		return netnsTarget{}, fmt.Errorf("pod %s/%s sandbox %s: %w", f.ns, p.Name, ids[0], err)
	}
	return netnsTarget{pod: podRef{Name: p.Name, UID: p.UID}, netns: netns}, nil
}

// sandboxIDPattern is a sandbox ID as crictl -q prints it. Matching it skips
// any warning the runtime client mixes into the combined output.
var sandboxIDPattern = regexp.MustCompile(`^[0-9a-f]{12,64}$`)

// sandboxIDs returns the sandbox IDs in the output of crictl pods -q.
func sandboxIDs(out string) []string {
	var ids []string
	for line := range strings.Lines(out) {
		if id := strings.TrimSpace(line); sandboxIDPattern.MatchString(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// sandboxInspect is the part of crictl inspectp's JSON that locates the
// network namespace.
type sandboxInspect struct {
	Status struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	} `json:"status"`
	Info struct {
		PID                int  `json:"pid"`
		NetNamespaceClosed bool `json:"netNamespaceClosed"`
		RuntimeSpec        struct {
			Linux struct {
				Namespaces []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	} `json:"info"`
}

// sandboxNetns returns the network namespace of a sandbox from crictl
// inspectp's output. containerd bind-mounts it under /var/run/netns, a path
// that stays unique for the sandbox's life; the pause process's
// /proc/PID/ns/net is the fallback for a runtime that does not say. The UID
// check makes sure the runtime answered about the pod that was asked for.
func sandboxNetns(out string, uid types.UID) (string, error) {
	start := strings.IndexByte(out, '{')
	if start < 0 {
		return "", fmt.Errorf("crictl inspectp printed no JSON: %s", outputLine(out))
	}
	var s sandboxInspect
	if err := json.Unmarshal([]byte(out[start:]), &s); err != nil {
		return "", fmt.Errorf("parse crictl inspectp: %w", err)
	}
	if s.Status.Metadata.UID != string(uid) {
		return "", fmt.Errorf("sandbox belongs to pod UID %q, want %q", s.Status.Metadata.UID, uid)
	}
	if s.Info.NetNamespaceClosed {
		return "", errors.New("its network namespace is closed")
	}
	for _, n := range s.Info.RuntimeSpec.Linux.Namespaces {
		if n.Type == "network" && n.Path != "" {
			return n.Path, nil
		}
	}
	if s.Info.PID > 0 {
		return "/proc/" + strconv.Itoa(s.Info.PID) + "/ns/net", nil
	}
	return "", errors.New("crictl inspectp names neither a network namespace path nor a pid")
}

// ruleSpec is the partition rule, without the chain operation.
func (f *IptablesPartitionFault) ruleSpec() []string {
	return []string{"-p", "tcp", "--dport", strconv.Itoa(f.port), "-m", "comment", "--comment", partitionComment, "-j", "DROP"}
}

// iptables returns the command that runs iptables in a target's network
// namespace. -w waits for the xtables lock instead of failing when kube-proxy
// or a CNI plugin holds it.
func (f *IptablesPartitionFault) iptables(t netnsTarget, args ...string) []string {
	return append([]string{"nsenter", "--net=" + t.netns, "iptables", "-w"}, args...)
}

// insert adds the rule at the top of INPUT unless it is already there, so
// that a repeated Inject does not stack rules.
func (f *IptablesPartitionFault) insert(ctx context.Context, t netnsTarget) error {
	rules, gone, err := f.rules(ctx, t)
	if err != nil {
		return err
	}
	if gone {
		return fmt.Errorf("network namespace of pod %s/%s is gone", f.ns, t.pod.Name)
	}
	if rules.exact > 0 {
		return nil
	}
	_, err = f.run(ctx, f.iptables(t, append([]string{"-I", "INPUT"}, f.ruleSpec()...)...)...)
	return err
}

// ruleCount counts the partition rules in a listing of INPUT: exact ones
// (this fault's port and target) and any that carry the comment.
type ruleCount struct {
	exact, marked int
}

// rules lists INPUT in a target's network namespace. gone reports that the
// namespace no longer exists (its pod was deleted), which leaves no rule
// behind.
func (f *IptablesPartitionFault) rules(ctx context.Context, t netnsTarget) (ruleCount, bool, error) {
	out, err := f.run(ctx, f.iptables(t, "-S", "INPUT")...)
	if err != nil {
		if netnsGone(out, t.netns) {
			return ruleCount{}, true, nil
		}
		return ruleCount{}, false, err
	}
	return f.count(out), false, nil
}

// count parses iptables -S output.
func (f *IptablesPartitionFault) count(out string) ruleCount {
	var c ruleCount
	for line := range strings.Lines(out) {
		opts, ok := inputRule(line)
		if !ok || opts["--comment"] != partitionComment {
			continue
		}
		c.marked++
		if opts["--dport"] == strconv.Itoa(f.port) && opts["-p"] == "tcp" && opts["-j"] == "DROP" {
			c.exact++
		}
	}
	return c
}

// inputRule splits one "-A INPUT ..." line of iptables -S into its options.
// Values are unquoted, since iptables quotes a comment that needs it.
func inputRule(line string) (map[string]string, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != "-A" || fields[1] != "INPUT" {
		return nil, false
	}
	opts := make(map[string]string)
	for i := 2; i+1 < len(fields); i++ {
		if strings.HasPrefix(fields[i], "-") && !strings.HasPrefix(fields[i+1], "-") {
			opts[fields[i]] = strings.Trim(fields[i+1], `"`)
			i++
		}
	}
	return opts, true
}

// netnsGone recognises nsenter's complaint that the namespace file is
// missing, which is what a deleted pod leaves.
func netnsGone(out, netns string) bool {
	return strings.Contains(out, "cannot open "+netns) && strings.Contains(out, "No such file or directory")
}

// Recover cancels the expiry timer and deletes the partition rules it added
// from every target namespace that still exists. It keeps going past a
// failing pod, so that one broken namespace does not leave the others
// partitioned, and reports them all.
func (f *IptablesPartitionFault) Recover(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	if f.expiry.After > 0 && len(f.targets) > 0 {
		if _, err := expiry.Cancel(ctx, expiry.Shell(f.exec), f.marker()); err != nil {
			errs = append(errs, fmt.Errorf("native: network-partition: recover: %w", err))
		}
	}
	for _, t := range f.targets {
		if err := f.remove(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("native: network-partition: recover pod %s/%s: %w", f.ns, t.pod.Name, err))
		}
	}
	return errors.Join(errs...)
}

// remove deletes this fault's rule from one namespace, as many times as it
// is listed. A namespace that is gone took its rules with it.
func (f *IptablesPartitionFault) remove(ctx context.Context, t netnsTarget) error {
	rules, gone, err := f.rules(ctx, t)
	if err != nil || gone {
		return err
	}
	for range rules.exact {
		out, err := f.run(ctx, f.iptables(t, append([]string{"-D", "INPUT"}, f.ruleSpec()...)...)...)
		if err != nil && !netnsGone(out, t.netns) {
			return err
		}
	}
	return nil
}

// Verify checks that no rule with the partition comment is left in any
// target namespace that still exists.
func (f *IptablesPartitionFault) Verify(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var left []string
	for _, t := range f.targets {
		rules, _, err := f.rules(ctx, t)
		if err != nil {
			return fmt.Errorf("native: network-partition: verify: %w", err)
		}
		if rules.marked > 0 {
			left = append(left, fmt.Sprintf("%s (%d)", t.pod.Name, rules.marked))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("native: network-partition: verify: %s rules left in pod(s) %s", partitionComment, strings.Join(left, ", "))
	}
	return nil
}

// run runs a command on the node; its error carries the command and the
// first line of its output, since that is where the reason is.
func (f *IptablesPartitionFault) run(ctx context.Context, args ...string) (string, error) {
	out, err := f.exec(ctx, args...)
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, outputLine(out))
	}
	return out, nil
}

// outputLine returns the first non-empty line of a command's output.
func outputLine(out string) string {
	for line := range strings.Lines(out) {
		if l := strings.TrimSpace(line); l != "" {
			return l
		}
	}
	return "(no output)"
}

// PartitionRules counts the partition rules left in every network
// namespace on the node that exec reaches, whoever's pod it belongs to:
// after a crash, what a sweep must have removed.
func PartitionRules(ctx context.Context, exec faults.Exec) (int, error) {
	script := `for n in /var/run/netns/*; do [ -e "$n" ] && nsenter --net="$n" iptables -w -S INPUT 2>/dev/null; done | grep -c -- ` + expiry.Quote(partitionComment) + `; true`
	out, err := exec(ctx, "sh", "-c", script)
	if err != nil {
		return 0, fmt.Errorf("native: count partition rules: %w: %s", err, outputLine(out))
	}
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return 0, fmt.Errorf("native: count partition rules: %q is not a count", strings.TrimSpace(out))
	}
	return n, nil
}
