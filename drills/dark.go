package drills

import (
	"fmt"
	"time"
)

// DarkGrace is how long after its fault is confirmed a CanaryDark drill's
// canary may still be served: the app's cached flag answers (1 s) and the
// evaluations still waiting on the dead server.
const DarkGrace = 3 * time.Second

// darkBefore is how far before injection the canary must have been served,
// so that its going dark means something.
const darkBefore = 5 * time.Second

// darkDuringFault says what the canary served while the first fault lasted
// (after DarkGrace), and why that breaks the drill, or "" when the canary
// was lit before and dark throughout.
func (d *Drill) darkDuringFault(samples []Sample) (dark, lit string) {
	d.mu.Lock()
	p := d.planned[0]
	confirmed, duration := p.record.Confirmed, p.spec.Duration
	d.mu.Unlock()
	canary := d.Scenario.Canary.Name
	count := func(from, to time.Time) (total, served int) {
		for _, s := range samples {
			if inSpan(s, from, to) {
				total++
				if s.Version == canary {
					served++
				}
			}
		}
		return total, served
	}
	_, before := count(confirmed.Add(-darkBefore), confirmed)
	from, to := confirmed.Add(DarkGrace), confirmed.Add(duration)
	total, served := count(from, to)
	dark = fmt.Sprintf("%s served %d of %d requests while %s lasted (%s to %s, after %s of grace), and %d in the %s before it",
		canary, served, total, p.spec.Kind, from.Format(time.TimeOnly), to.Format(time.TimeOnly), DarkGrace, before, darkBefore)
	switch {
	case before == 0:
		lit = fmt.Sprintf("%s served nobody before %s, so its going dark proves nothing: %s", canary, p.spec.Kind, dark)
	case total == 0:
		lit = "no user request was observed while the fault lasted: " + dark
	case served > 0:
		lit = fmt.Sprintf("the new path did not go dark: %s", dark)
	}
	return dark, lit
}
