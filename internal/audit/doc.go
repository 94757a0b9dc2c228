// Package audit keeps a drill's audit log: every write firedrill makes to
// the cluster, recorded by a transport wrapped around the drill's clients
// (verb, object, resourceVersion before and after, time, and why: the
// phase and step, carried in the request's context), and every change the
// machinery or its controllers made in the drill namespace, as a watch
// saw it and as the API server attributes it (managedFields).
//
// A drill writes it as <scenario>-<id>/audit.jsonl, one Entry per line;
// `firedrill report audit DIR` prints it as a timeline.
package audit
