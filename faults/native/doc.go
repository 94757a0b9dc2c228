// Package native injects the faults a drill can cause with client-go alone,
// or with a command on a kind node, without Chaos Mesh: deleting pods, a bad
// image, a crash-looping config, pods turned unready, ConfigMap drift, and
// an iptables partition in the target pods' network namespaces.
//
// Every fault implements faults.Fault and keeps to its bracket:
//   - Inject returns only once onset is confirmed through the API (or, for
//     the partition, in the pod's network namespace), with the instant it
//     was confirmed; a fault that cannot be confirmed is an error, never a
//     silent success;
//   - Inject remembers what it changed before it changes it, so that Recover
//     can undo a partial injection;
//   - Recover is idempotent and does nothing when Inject never ran, so that
//     cleanup can call it unconditionally;
//   - Verify checks, once and without waiting, that nothing of the fault is
//     left.
//
// Constructors refuse, with a one-line error, any namespace that is not a
// drill namespace (drill-*) and any empty pod selector, because a native
// fault acts directly on what it is given and an empty selector matches
// every pod in the namespace.
package native
