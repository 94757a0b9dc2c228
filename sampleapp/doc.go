// Command sampleapp is the target application of firedrill's rollback fire
// drills.
//
// A drill needs an app whose failures it controls and whose recovery it can
// trust. sampleapp has fault knobs, set at start from the environment or
// changed at run time through an admin port that the Service does not expose.
// With them a drill can:
//   - ship a "bad" version that fails a share of requests (ERROR_RATIO), answers
//     slowly (LATENCY), never becomes ready (FAIL_READINESS) or crash-loops
//     (CRASH_ON_START);
//   - ship a version that passes its smoke check and goes bad later:
//     FAULT_AFTER (a duration, default 0) holds ERROR_RATIO and LATENCY at
//     zero and turns them on that long after start, for instance a blue-green
//     "green" that breaks seconds after the switch. A knob set through
//     POST /admin/knobs in the meantime wins: FAULT_AFTER never overwrites it;
//   - calibrate the observer with an outage of known start and length
//     (POST /admin/outage).
//
// Every user answer carries the X-App-Version header, so the observer can tell
// which version served each request while a rollback is in progress.
//
// sampleapp drains politely on SIGTERM. It first fails readiness and asks
// clients to close their connections while it keeps serving, so that the
// endpoints controller removes the pod before the app stops accepting
// connections. It then waits for in-flight requests to finish. A drill
// therefore measures the rollback machinery, not errors caused by an app that
// hangs up on its clients.
//
// Configuration comes from the environment: VERSION, PORT, ADMIN_PORT,
// ERROR_RATIO, LATENCY, FAULT_AFTER, CRASH_ON_START, FAIL_READINESS,
// DRAIN_DELAY and DRAIN_TIMEOUT; internal/appcontract names them for the rest
// of firedrill. An invalid value stops the app with exit status 1 and a
// one-line error that names the variable.
package main
