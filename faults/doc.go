// Package faults injects and removes the faults of a drill. A Fault is
// bracketed: Inject returns only once onset is confirmed on the data plane or
// through the API, Recover is idempotent, and Verify checks that nothing of
// the fault is left. Backends live in faults/chaosmesh (Chaos Mesh objects
// built from chaos-mesh/api types) and faults/native (client-go actions).
package faults
