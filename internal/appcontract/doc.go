// Package appcontract is the one place that states what the rest of
// firedrill may assume about the sample app and the drill namespaces: the
// app's ports, its fault knobs, its admin endpoints and version header, and
// the drill- namespace prefix with its guard. rollback/, faults/, drills/
// and the sample app itself read these facts from here, so that changing
// one changes it everywhere. It imports nothing from Kubernetes, so the app
// links none of it; the one rule for "a container crashed" is
// kube.FirstCrash.
package appcontract
