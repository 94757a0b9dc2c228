package reports

import (
	"fmt"
	"strconv"
	"strings"
)

// CalibrationTable renders calibration rows as a Markdown table: injected
// outage, measured MTTR, error, stated bound and whether it holds.
func CalibrationTable(rows []CalibrationRow) string {
	var b strings.Builder
	b.WriteString("| Rate | Injected | Failing | Measured MTTR | Error | Stated bound | Failed requests | Within |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		within := "yes"
		switch {
		case r.Err != "":
			within = "**no**: " + mdEscape(r.Err)
		case !r.Within:
			within = "**no**"
		}
		fmt.Fprintf(&b, "| %d Hz | %s s | %s | %s s | %+.3f s | −%s/+%s s | %d | %s |\n", r.RateHz,
			fmtSeconds(r.Injected, 1), RatioPercent(r.Ratio), fmtSeconds(r.Measured, 3), float64(r.Error)/1e9,
			fmtSeconds(r.Minus, 3), fmtSeconds(r.Plus, 3), r.Failed, within)
	}
	return b.String()
}

// RatioPercent formats a share as a percentage: 0.3 as "30%".
func RatioPercent(r float64) string {
	return strconv.FormatFloat(100*r, 'f', 0, 64) + "%"
}
