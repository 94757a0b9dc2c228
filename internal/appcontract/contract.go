package appcontract

import "time"

// Ports of the sample app. The user port is what Services route to; the
// admin port carries the knobs and is never exposed by a Service.
const (
	UserPort  = 8080
	AdminPort = 9090
	// UserPortName and AdminPortName name the container ports.
	UserPortName  = "http"
	AdminPortName = "admin"
)

// Container is the sample app's container name in every pod template.
const Container = "app"

// VersionHeader carries the version that answered, on every user answer,
// errors included, so the observer can tell which version served whom.
const VersionHeader = "X-App-Version"

// Environment knobs the sample app reads at start.
const (
	// EnvVersion is the version the app reports in VersionHeader.
	EnvVersion = "VERSION"
	// EnvErrorRatio is the share of user requests answered with HTTP 500.
	EnvErrorRatio = "ERROR_RATIO"
	// EnvLatency delays every user answer.
	EnvLatency = "LATENCY"
	// EnvCrashOnStart makes the app exit 1 at once.
	EnvCrashOnStart = "CRASH_ON_START"
	// EnvFailReadiness makes /readyz fail.
	EnvFailReadiness = "FAIL_READINESS"
	// EnvFaultAfter delays ERROR_RATIO and LATENCY by this long after
	// start: a version that passes its smoke check and goes bad later.
	EnvFaultAfter = "FAULT_AFTER"
	// EnvDrainDelay and EnvDrainTimeout shape the graceful drain.
	EnvDrainDelay   = "DRAIN_DELAY"
	EnvDrainTimeout = "DRAIN_TIMEOUT"
	// EnvFlagServer is the URL of the flag server (a GO Feature Flag relay
	// proxy); set, the app evaluates EnvFlagKey on every user request and
	// takes the new code path where it is on.
	EnvFlagServer = "FLAG_SERVER"
	// EnvFlagKey names the flag (default FlagKey).
	EnvFlagKey = "FLAG_KEY"
	// EnvFlagOnVersion is the version the app reports on the new path.
	EnvFlagOnVersion = "FLAG_ON_VERSION"
	// EnvFlagPoll is how often the provider asks the server whether the
	// flag configuration changed (default 250ms).
	EnvFlagPoll = "FLAG_POLL"
	// EnvNewPathErrorRatio and EnvNewPathLatency are the fault knobs of
	// the new code path, which only the flag turns on.
	EnvNewPathErrorRatio = "NEW_PATH_ERROR_RATIO"
	EnvNewPathLatency    = "NEW_PATH_LATENCY"
	// EnvPort and EnvAdminPort override the ports (drills never set them).
	EnvPort      = "PORT"
	EnvAdminPort = "ADMIN_PORT"
)

// FlagKey is the feature flag the flag drills turn on and kill.
const FlagKey = "new-pricing"

// FlagChangedEvent is the OpenFeature event a pod's provider emits when it
// sees the flag configuration change; PathFlags lists them.
const FlagChangedEvent = "PROVIDER_CONFIGURATION_CHANGED"

// UserHeader carries the user a request is for; the app keys the flag's
// percentage rollout on it, and the observer varies it.
const UserHeader = "X-Firedrill-User"

// Paths the sample app serves.
const (
	// PathReady is the readiness endpoint on the user port.
	PathReady = "/readyz"
	// PathTime answers the app's own clock on the user port.
	PathTime = "/time"
	// PathKnobs (GET, POST) reads and changes the knobs on the admin port.
	PathKnobs = "/admin/knobs"
	// PathFlags (GET) says when the app's flag provider saw each flag
	// configuration change, on the admin port.
	PathFlags = "/admin/flags"
	// PathOutage (POST ?duration=) fails every user request for a while.
	PathOutage = "/admin/outage"
	// OutageDuration and OutageRatio are PathOutage's query parameters:
	// how long the outage lasts, and the share of requests it fails
	// (default 1, every request).
	OutageDuration = "duration"
	OutageRatio    = "ratio"
)

// AdminSegments splits an admin path into segments for the API server's pod
// proxy (rest.Request.Suffix).
func AdminSegments(path string) []string {
	var out []string
	start := 1
	for i := 1; i <= len(path); i++ {
		if i == len(path) || path[i] == '/' {
			out = append(out, path[start:i])
			start = i + 1
		}
	}
	return out
}

// DrainGrace is the pod's termination grace period: longer than the app's
// default drain delay plus timeout.
const DrainGrace = 30 * time.Second

// BadImage is an image reference that can never be pulled: the .invalid
// top-level domain is reserved and never resolves (RFC 6761), so no public
// registry can answer for it.
const BadImage = "firedrill.invalid/does-not-exist:bad"
