package drills

import (
	"time"

	"github.com/firedrill-dev/firedrill/reports"
)

// SeriesBucket is the width of one point of the report's traffic series:
// fine enough to show a few-second outage, coarse enough to keep a p99.
const SeriesBucket = 500 * time.Millisecond

// Series buckets the samples from t0 on, so that the report can be charted
// (success ratio and p99 over time) without the raw samples.
func Series(samples []Sample, t0 time.Time, bucket time.Duration) []reports.SeriesPoint {
	samples = sortedByTime(samples)
	var points []reports.SeriesPoint
	for i := 0; i < len(samples); {
		start := t0.Add(samples[i].At.Sub(t0).Truncate(bucket))
		end := start.Add(bucket)
		j := i
		for j < len(samples) && samples[j].At.Before(end) {
			j++
		}
		points = append(points, seriesPoint(samples[i:j], start.Sub(t0)))
		i = j
	}
	return points
}

func seriesPoint(in []Sample, offset time.Duration) reports.SeriesPoint {
	p := reports.SeriesPoint{Offset: reports.Duration(offset), Requests: len(in)}
	for _, s := range in {
		if s.Failed() {
			p.Failures++
		}
	}
	p.SuccessRatio = float64(p.Requests-p.Failures) / float64(p.Requests)
	_, _, p99 := Percentiles(in, time.Time{}, time.Time{})
	p.P99 = reports.Duration(p99)
	return p
}

// SpanStats summarizes the samples with At in [from, to); a zero from or to
// leaves that side open.
func SpanStats(samples []Sample, from, to time.Time) reports.LatencyStats {
	var in []Sample
	for _, s := range samples {
		if (!from.IsZero() && s.At.Before(from)) || (!to.IsZero() && !s.At.Before(to)) {
			continue
		}
		in = append(in, s)
	}
	st := reports.LatencyStats{Requests: len(in)}
	for _, s := range in {
		if s.Failed() {
			st.Failures++
		}
	}
	p50, p90, p99 := Percentiles(in, time.Time{}, time.Time{})
	st.P50, st.P90, st.P99 = reports.Duration(p50), reports.Duration(p90), reports.Duration(p99)
	return st
}
