package reports

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chartBudgetLabel labels the chart's MTTR budget line, drawn at onset +
// budget, so that a reader sees how far restoration landed from the deadline.
const chartBudgetLabel = "budget"

// chartMarkers are the timeline events TimelineSVG marks, in MTTR order:
// the phase boundaries of DESIGN.md. Each keeps one colour across the label
// and the line so that labels placed on different rows still read as one
// marker. An event absent from the timeline is not drawn.
var chartMarkers = []struct {
	Name  string
	Color color.NRGBA
}{
	{"onset", color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	{"detected", color.NRGBA{R: 0xe6, G: 0x6c, B: 0x00, A: 0xff}},
	{"decided", color.NRGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}},
	{"actuated", color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
	{"restored", color.NRGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
}

// Chart geometry. The width suits a report column of about 1000 CSS pixels;
// the SVG scales down on narrower screens since it keeps its viewBox.
const (
	chartWidth       = 10 * vg.Inch
	chartPanelHeight = 2.2 * vg.Inch
	chartPanelGap    = 8  // points between the two panels
	chartLabelRow    = 13 // points per row of marker labels
	chartLabelGap    = 6  // points kept free between labels on one row
	chartLabelPad    = 3  // points between a marker line and its label
	chartFontSize    = 10
	chartMinP99ms    = 0.1 // floor for the log latency scale; p99 is rounded to 1 ms in JSON
)

var (
	// chartFont is Liberation Sans, embedded in gonum/plot, so that text
	// metrics need no system fonts. The SVG names the family only, and the
	// HTML page lets the browser fall back to any sans-serif.
	chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

	chartBudgetColor = color.NRGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff}
	chartWindowColor = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0x24}
	chartSeriesColor = color.NRGBA{R: 0x22, G: 0x22, B: 0x22, A: 0xff}
)

// chartMarker is one labelled vertical line of the chart, at seconds since t0.
type chartMarker struct {
	name   string
	at     float64
	color  color.Color
	dashed bool
	row    int // label row in the band above the panels, 0 at the top
}

// timelineChart is what TimelineSVG draws, taken out of a Report first so
// layout code never interprets report fields.
type timelineChart struct {
	markers []chartMarker
	// windowFrom and windowTo bound the shaded fault window; hasWindow is
	// false when the timeline has no onset.
	windowFrom, windowTo float64
	hasWindow            bool
	xmax                 float64
	success, latency     []plotter.XYs // runs of buckets that saw requests
}

// TimelineSVG draws the drill's timeline chart with gonum.org/v1/plot, as a
// standalone SVG document: a band of marker labels over two panels sharing
// the x axis (seconds since t0), success ratio on top and p99 latency below,
// since gonum/plot has no second y scale. The fault window (onset to
// restored, or to the end of the drill when service never came back) is
// shaded, and onset, detected, decided, actuated, restored and the MTTR
// budget are vertical lines labelled by name in <text> elements, so that
// both people and tests find them in what the library drew.
func TimelineSVG(r *Report) ([]byte, error) {
	if r == nil {
		return nil, errors.New("timeline chart: nil report")
	}
	ch := newTimelineChart(r)
	band := ch.bandPlot()
	success, err := ch.successPlot()
	if err != nil {
		return nil, fmt.Errorf("timeline chart: %w", err)
	}
	latency, err := ch.latencyPlot()
	if err != nil {
		return nil, fmt.Errorf("timeline chart: %w", err)
	}
	return ch.render(band, success, latency)
}

// newTimelineChart extracts markers, fault window, x range and series
// from r.
func newTimelineChart(r *Report) *timelineChart {
	ch := &timelineChart{}
	end := chartEnd(r)
	for _, m := range chartMarkers {
		if e, ok := r.Event(m.Name); ok {
			ch.markers = append(ch.markers, chartMarker{name: m.Name, at: chartSeconds(e.Offset), color: m.Color})
		}
	}
	xmax := end
	if onset, ok := r.Event("onset"); ok {
		ch.hasWindow = true
		ch.windowFrom, ch.windowTo = chartSeconds(onset.Offset), end
		if restored, ok := r.Event("restored"); ok {
			ch.windowTo = chartSeconds(restored.Offset)
		}
		if budget := chartBudget(r); budget > 0 {
			at := chartSeconds(onset.Offset) + chartSeconds(budget)
			ch.markers = append(ch.markers, chartMarker{name: chartBudgetLabel, at: at, color: chartBudgetColor, dashed: true})
			xmax = math.Max(xmax, at)
		}
	}
	// Chronological order lets chartLabelRows fill label rows left to right;
	// the stable sort keeps MTTR order for events at the same instant.
	sort.SliceStable(ch.markers, func(i, j int) bool { return ch.markers[i].at < ch.markers[j].at })
	ch.xmax = math.Max(1, math.Ceil(xmax*1.02))
	ch.success, ch.latency = chartRuns(r)
	return ch
}

// chartBudget is the MTTR budget the drill was judged against; older
// writers set it on MTTR only.
func chartBudget(r *Report) Duration {
	if r.Budget > 0 || r.MTTR == nil {
		return r.Budget
	}
	return r.MTTR.Budget
}

// chartEnd is the last instant the report knows about, in seconds since t0,
// so that an unrestored fault window is shaded to the end of the drill.
func chartEnd(r *Report) float64 {
	var end float64
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		end = r.Finished.Sub(r.Started).Seconds()
	}
	for _, e := range r.Timeline {
		end = math.Max(end, chartSeconds(e.Offset))
	}
	if n := len(r.Series); n > 0 {
		end = math.Max(end, chartSeconds(r.Series[n-1].Offset)+chartBucket(r))
	}
	return end
}

// chartBucket is the width of one series bucket in seconds, inferred from
// the first two points when the report does not state it.
func chartBucket(r *Report) float64 {
	if r.SeriesBucket > 0 {
		return chartSeconds(r.SeriesBucket)
	}
	if len(r.Series) > 1 {
		return chartSeconds(r.Series[1].Offset - r.Series[0].Offset)
	}
	return 0
}

// chartRuns turns the series into step-line points, success in percent and
// p99 in milliseconds. A bucket without requests breaks the line rather
// than draw a value nobody observed. Each run ends with a point at its last
// bucket's end so that the last bucket gets its full width.
func chartRuns(r *Report) (success, latency []plotter.XYs) {
	bucket := chartBucket(r)
	var s, l plotter.XYs
	flush := func(end float64) {
		if len(s) == 0 {
			return
		}
		s = append(s, plotter.XY{X: end, Y: s[len(s)-1].Y})
		l = append(l, plotter.XY{X: end, Y: l[len(l)-1].Y})
		success, latency = append(success, s), append(latency, l)
		s, l = nil, nil
	}
	for _, p := range r.Series {
		at := chartSeconds(p.Offset)
		if p.Requests == 0 {
			flush(at)
			continue
		}
		s = append(s, plotter.XY{X: at, Y: 100 * p.SuccessRatio})
		l = append(l, plotter.XY{X: at, Y: math.Max(chartMinP99ms, 1000*chartSeconds(p.P99))})
	}
	if n := len(r.Series); n > 0 {
		flush(chartSeconds(r.Series[n-1].Offset) + bucket)
	}
	return success, latency
}

// chartSeconds converts a report Duration to float seconds for plotting.
func chartSeconds(d Duration) float64 { return time.Duration(d).Seconds() }

// newPanel returns a plot with the chart's font and x range, so that the
// panels line up and share one look.
func (ch *timelineChart) newPanel() *plot.Plot {
	p := plot.New()
	for _, sty := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		sty.Font = font.From(chartFont, chartFontSize)
	}
	p.X.Min, p.X.Max = 0, ch.xmax
	p.X.Tick.Marker = plot.TickerFunc(chartSecondTicks)
	return p
}

// chartSecondTicks labels the x axis in whole seconds, at a step giving at
// most a dozen labels, so that offsets from the timeline table can be found
// on the chart by eye (gonum's default ticks read "25.00").
func chartSecondTicks(lo, hi float64) []plot.Tick {
	var step int
	for _, step = range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		if (hi-lo)/float64(step) <= 12 {
			break
		}
	}
	minor := step / 5
	if step%5 != 0 || minor == 0 {
		minor = max(step/2, 1)
	}
	var ticks []plot.Tick
	for v := int(math.Ceil(lo/float64(minor))) * minor; float64(v) <= hi; v += minor {
		t := plot.Tick{Value: float64(v)}
		if v%step == 0 {
			t.Label = strconv.Itoa(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// bandPlot holds the marker labels above the panels. It is a plot without
// axes, so that its x transform is the panels' transform.
func (ch *timelineChart) bandPlot() *plot.Plot {
	p := ch.newPanel()
	p.HideAxes()
	p.X.Padding, p.Y.Padding = 0, 0
	p.Y.Min, p.Y.Max = 0, 1
	if w := ch.window(0, 1); w != nil {
		p.Add(w)
	}
	p.Add(&chartMarkerLabels{markers: ch.markers, style: chartLabelStyle()})
	p.X.Min, p.X.Max = 0, ch.xmax
	return p
}

// successPlot is the upper panel: the share of requests that succeeded.
func (ch *timelineChart) successPlot() (*plot.Plot, error) {
	p := ch.newPanel()
	p.Y.Label.Text = "success %"
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"}, {Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
	if err := ch.fillPanel(p, ch.success, 0, 104); err != nil {
		return nil, err
	}
	return p, nil
}

// latencyPlot is the lower panel: p99 latency per bucket on a log scale, so
// that a slow start-up does not flatten the fault window's latencies.
func (ch *timelineChart) latencyPlot() (*plot.Plot, error) {
	p := ch.newPanel()
	p.X.Label.Text = "seconds since t0"
	p.Y.Label.Text = "p99 ms (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(chartLogTicks)
	lo, hi := chartDecades(ch.latency)
	if err := ch.fillPanel(p, ch.latency, lo, hi); err != nil {
		return nil, err
	}
	return p, nil
}

// chartLogTicks is plot.LogTicks without the ticks it returns beyond the
// axis range: the plot pads its data area for their labels even though it
// never draws them, which squashed the latency panel.
func chartLogTicks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (plot.LogTicks{Prec: -1}).Ticks(lo, hi) {
		if t.Value >= lo && t.Value <= hi {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// chartDecades bounds the latency axis by powers of ten around the data, so
// that the log scale shows labelled ticks at both ends. A maximum just over
// a power of ten (a 1007 ms start-up) tops the axis at 1.25 times that
// power rather than waste most of a decade.
func chartDecades(runs []plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, run := range runs {
		for _, pt := range run {
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
	}
	if math.IsInf(lo, 0) {
		return 1, 1000
	}
	lo = math.Pow10(int(math.Floor(math.Log10(lo))))
	below := math.Pow10(int(math.Floor(math.Log10(hi))))
	if hi <= 1.25*below && 1.25*below > lo {
		return lo, 1.25 * below
	}
	return lo, 10 * below
}

// fillPanel adds, bottom to top, the fault window, the grid, the series
// runs and the marker lines to p, and fixes its y range to ymin..ymax.
func (ch *timelineChart) fillPanel(p *plot.Plot, runs []plotter.XYs, ymin, ymax float64) error {
	if w := ch.window(ymin, ymax); w != nil {
		p.Add(w)
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	for _, run := range runs {
		line, err := plotter.NewLine(run)
		if err != nil {
			return err
		}
		line.StepStyle = plotter.PostStep
		line.Color = chartSeriesColor
		line.Width = vg.Points(1.5)
		p.Add(line)
	}
	p.Add(&chartMarkerLines{markers: ch.markers})
	p.X.Min, p.X.Max = 0, ch.xmax
	p.Y.Min, p.Y.Max = ymin, ymax
	return nil
}

// window is the shaded fault window spanning ymin..ymax, or nil without an
// onset. It has no outline so that it never reads as a marker line.
func (ch *timelineChart) window(ymin, ymax float64) *plotter.Polygon {
	if !ch.hasWindow || ch.windowTo <= ch.windowFrom {
		return nil
	}
	poly, err := plotter.NewPolygon(plotter.XYs{
		{X: ch.windowFrom, Y: ymin}, {X: ch.windowTo, Y: ymin},
		{X: ch.windowTo, Y: ymax}, {X: ch.windowFrom, Y: ymax},
	})
	if err != nil {
		return nil // unreachable: the vertices are finite
	}
	poly.Color = chartWindowColor
	poly.LineStyle.Width = 0
	return poly
}

// lineStyle is how marker m's vertical line is stroked.
func (m chartMarker) lineStyle() draw.LineStyle {
	sty := draw.LineStyle{Color: m.color, Width: vg.Points(1.25)}
	if m.dashed {
		sty.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return sty
}

// chartLabelStyle is the text style of marker labels.
func chartLabelStyle() text.Style {
	return text.Style{Font: font.From(chartFont, chartFontSize), Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YBottom}
}

// chartMarkerLines draws each marker as a vertical line across a panel.
type chartMarkerLines struct{ markers []chartMarker }

// Plot implements plot.Plotter.
func (ml *chartMarkerLines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, m := range ml.markers {
		x := trX(m.at)
		c.StrokeLine2(m.lineStyle(), x, c.Min.Y, x, c.Max.Y)
	}
}

// chartMarkerLabels draws each marker's name on its row of the label band,
// with a stem down to the panels so that the name sits on its line.
type chartMarkerLabels struct {
	markers []chartMarker
	style   text.Style
}

// Plot implements plot.Plotter.
func (ml *chartMarkerLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, m := range ml.markers {
		x := trX(m.at)
		y := c.Max.Y - vg.Length(m.row+1)*chartLabelRow
		c.StrokeLine2(m.lineStyle(), x, c.Min.Y, x, y+chartLabelRow-2)
		sty := ml.style
		sty.Color = m.color
		left := x + chartLabelPad
		if left+sty.Width(m.name) > c.Max.X {
			sty.XAlign = draw.XRight
			left = x - chartLabelPad
		}
		c.FillText(sty, vg.Point{X: left, Y: y + 2}, m.name)
	}
}

// chartLabelRows places marker labels on rows of the band, first fit from
// the left, so that markers a fraction of a second apart (decided and
// actuated often are) keep readable labels. x maps seconds to points and
// right is the data area's right edge, where labels flip to the left of
// their line. It returns the number of rows used.
func chartLabelRows(markers []chartMarker, x func(float64) vg.Length, right vg.Length) int {
	sty := chartLabelStyle()
	var rowEnds []vg.Length
	for i := range markers {
		start := x(markers[i].at)
		end := start + chartLabelPad + sty.Width(markers[i].name)
		if end > right {
			start, end = start-chartLabelPad-sty.Width(markers[i].name), start
		}
		row := 0
		for row < len(rowEnds) && rowEnds[row]+chartLabelGap > start {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = max(rowEnds[row], end)
		markers[i].row = row
	}
	return len(rowEnds)
}

// render lays the band and the two panels out top to bottom on one SVG
// canvas. draw.Tiles and plot.Align would give every row the same height;
// the band needs only as many label rows as the markers use, so the rows
// are cropped by hand and their data areas aligned on x like plot.Align
// does, which keeps marker lines straight across panels.
func (ch *timelineChart) render(band, success, latency *plot.Plot) ([]byte, error) {
	panels := []*plot.Plot{success, latency}
	probe := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: chartWidth, Y: chartPanelHeight}}}
	left, right := chartInsets(panels, probe)
	x := func(at float64) vg.Length {
		return left + vg.Length(at/ch.xmax)*(chartWidth-left-right)
	}
	rows := chartLabelRows(ch.markers, x, chartWidth-right)
	bandHeight := vg.Length(max(rows, 1))*chartLabelRow + 4
	// The latency panel also holds the x axis title; it gets that much more
	// height so both data areas are the same size.
	latencyHeight := chartPanelHeight + chartDataHeight(success, probe) - chartDataHeight(latency, probe)

	canvas := vgsvg.New(chartWidth, bandHeight+chartPanelHeight+chartPanelGap+latencyHeight)
	dc := draw.New(canvas)
	bandC := draw.Crop(dc, left, -right, latencyHeight+chartPanelGap+chartPanelHeight, 0)
	successC := draw.Crop(dc, 0, 0, latencyHeight+chartPanelGap, -bandHeight)
	latencyC := draw.Crop(dc, 0, 0, 0, -bandHeight-chartPanelHeight)
	band.Draw(bandC)
	success.Draw(chartAlignX(success, successC, left, right))
	latency.Draw(chartAlignX(latency, latencyC, left, right))

	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("timeline chart: %w", err)
	}
	return buf.Bytes(), nil
}

// chartInsets is the widest left and right margin, axes and overhanging
// tick labels included, that any of the plots needs around its data area.
func chartInsets(plots []*plot.Plot, c draw.Canvas) (left, right vg.Length) {
	for _, p := range plots {
		d := p.DataCanvas(c)
		left = max(left, d.Min.X-c.Min.X)
		right = max(right, c.Max.X-d.Max.X)
	}
	return left, right
}

// chartDataHeight is the height of p's data area when drawn on c.
func chartDataHeight(p *plot.Plot, c draw.Canvas) vg.Length {
	d := p.DataCanvas(c)
	return d.Max.Y - d.Min.Y
}

// chartAlignX crops c so that p's data area spans the same x range as the
// other panels' (left and right from chartInsets).
func chartAlignX(p *plot.Plot, c draw.Canvas, left, right vg.Length) draw.Canvas {
	d := p.DataCanvas(c)
	return draw.Crop(c, left-(d.Min.X-c.Min.X), -(right - (c.Max.X - d.Max.X)), 0, 0)
}
