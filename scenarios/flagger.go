package scenarios

import (
	"time"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/internal/appcontract"
	"github.com/firedrill-dev/firedrill/rollback"
)

// flaggerBadVersion is the bad version as Flagger sees it: users never
// reach it, so its onset is the harness's first test request it fails.
var flaggerBadVersion = drills.CanaryFault{Kind: badVersion.Kind, Env: map[string]string{appcontract.EnvErrorRatio: "1"}, Onset: drills.OnsetCanaryTestErrors}

// FlaggerBadVersionNotPromoted: a Flagger blue-green Canary whose new
// version answers 500s. Users stay on the primary and never see it; the
// rollout gate fails it at two analysis iterations in a row, and Flagger
// marks the Canary Failed and scales the canary to zero. The budget runs
// from the first failed test request to the canary at zero: with 10 s
// iterations, about four of them.
var FlaggerBadVersionNotPromoted = func() drills.Scenario {
	s := machineryDrill("flagger-bad-version-not-promoted", rollback.Flagger, rollback.DetectAnalysis, LabelDetectAnalysis, stable, rollback.Version{Name: "v2"}, LabelBadVersion, LabelComparison)
	s.Fault, s.Budget = flaggerBadVersion, 60*time.Second
	return s
}()

// FlaggerDrills are the drills of the flagger machinery.
var FlaggerDrills = []drills.Scenario{FlaggerBadVersionNotPromoted}
