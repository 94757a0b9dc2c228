// Package flaggerhook is the drill's side of Flagger's webhooks, run in the
// drill namespace beside the app (cmd/flagger-hook, packed into the Flagger
// image). It answers two kinds of Flagger webhook and keeps a record of
// both, which the flagger machinery reads through the API server's proxy:
//
//   - the rollout gate (type "rollout"): at each analysis iteration Flagger
//     posts to it, the hook sends test requests to the canary's own Service
//     and answers 500 when the canary's error ratio is over the limit, so
//     Flagger counts a failed check;
//   - the event sink (type "event"): Flagger posts every event it records
//     on the Canary, with its own millisecond timestamp, which gives the
//     drill exact decision times.
//
// It is also the contract between the hook and the machinery: the paths,
// the metadata keys a webhook passes, and the record's JSON.
package flaggerhook
