// Package toxiproxy injects network faults (latency, bandwidth, timeouts
// and resets) with a Toxiproxy sidecar in front of the app's port. It is the
// way to degrade the network on hosts whose kernel has no netem, where Chaos
// Mesh's NetworkChaos cannot run: Toxiproxy works in user space.
//
// How traffic goes through the proxy:
//   - The Service's targetPort is the named port "user" (PortNameUser),
//     which the endpoints controller resolves per pod.
//   - On pods that may take a fault, WithSidecar adds the sidecar as a
//     native sidecar (an init container with restartPolicy Always) whose
//     port 8081 is named "user"; the proxy forwards to the app on
//     127.0.0.1:8080. On the other pods, WithoutSidecar names the app's own
//     port 8080 "user". Stable and canary pods thus share one Service while
//     only the pods with the sidecar can be poisoned.
//   - The proxy "app" exists from the start: its definition sits in a pod
//     annotation that a downward API volume hands to Toxiproxy's -config, so
//     user traffic never reaches a port with no proxy behind it, and no
//     ConfigMap has to exist before the pods.
//   - The app keeps its readiness probe on 8080; the sidecar's is a TCP
//     connect to 8081, which no toxic affects, so a fault never removes a pod
//     from the Service on its own.
//
// Faults reach each sidecar's API (port 8474) through the API server's pod
// proxy. Inject adds one toxic named firedrill-<kind> to the proxy of every
// target pod and confirms onset by reading it back; Recover deletes it,
// treating 404 as done; Verify checks that no firedrill-* toxic is left.
// Pods created after Inject (a replaced canary pod) start without the
// toxic: Toxiproxy keeps toxics in memory only.
package toxiproxy
