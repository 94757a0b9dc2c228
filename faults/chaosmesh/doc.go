// Package chaosmesh builds the Chaos Mesh objects that a drill injects as
// faults: PodChaos, NetworkChaos, StressChaos and TimeChaos, typed from
// github.com/chaos-mesh/chaos-mesh/api/v1alpha1 rather than unstructured
// maps, so that a field the controller does not know fails to compile
// instead of being silently dropped by the API server.
//
// Every builder takes a Meta (where the chaos object lives) and a Target
// (which pods it hits) and refuses, with a one-line error, anything that
// could reach beyond the drill:
//   - both namespaces must be drill namespaces (named drill-*), and they
//     must be the same one, because a drill's faults stay in its namespace;
//   - the target's labels must not be empty, because an empty Chaos Mesh
//     selector matches every pod in the namespace;
//   - faults that last must carry a positive duration, so that Chaos Mesh
//     ends them on its own even if the harness dies before Recover.
//
// The name check is the builders' half of the namespace guard; the cluster's
// half is Chaos Mesh's namespace filter, which the installation enables.
//
// Built objects are already in the form Chaos Mesh's admission webhook
// would store: its defaulting changes nothing and its validation accepts
// them, which the tests check with the api package's own Default and
// ValidateCreate and with the CRD schemas.
package chaosmesh
