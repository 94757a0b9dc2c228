// Command flagger-hook serves Flagger's rollout gate and event webhooks in
// a drill namespace (see internal/flaggerhook). It is packed into the
// Flagger image beside the controller, and the flagger machinery runs it
// with its own command.
package main
