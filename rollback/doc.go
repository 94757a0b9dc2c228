// Package rollback holds the machineries whose job is to roll back a bad
// canary, behind one Machinery interface. A machinery deploys versions and
// reports its decision and actuation; it never reads the harness observer's
// data unless the scenario delegates detection to the harness, in which case
// the harness fires the machinery's rollback hook, like an alert webhook.
package rollback
