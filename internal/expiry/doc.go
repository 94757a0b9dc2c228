// Package expiry starts detached timers that end a fault by themselves when
// the harness that injected it dies.
//
// A timer is a shell in its own session (setsid), so that a SIGKILL of the
// harness's whole process group does not reach it. It sleeps, then runs the
// fault's undo commands. It runs on the host for faults the host undoes
// (docker unpause of a kind node) or inside a kind node for faults only a
// node can reach (iptables rules in a pod's network namespace, a sidecar's
// toxics on the pod network).
//
// Every timer carries a marker in its argv, firedrill-expiry:<run>:<name>.
// Recover cancels the fault's own timer with pkill -f, and firedrill
// cleanup cancels every timer of a run it sweeps, so that a stale timer
// never undoes a later run's fault.
package expiry
