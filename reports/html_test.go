package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"gonum.org/v1/plot/vg"
)

// htmlFixtures are the real drill reports the HTML goldens are made from.
var htmlFixtures = []string{"canary-bad-version", "canary-crashloop"}

// htmlFixtureReport reads testdata/<name>.json.
func htmlFixtureReport(t *testing.T, name string) *Report {
	t.Helper()
	r, err := ReadJSON("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// htmlRender is WriteHTML into memory.
func htmlRender(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return buf.String()
}

// htmlSVGOf is the inline <svg> element of a rendered page.
func htmlSVGOf(t *testing.T, page string) string {
	t.Helper()
	start, end := strings.Index(page, "<svg"), strings.LastIndex(page, "</svg>")
	if start < 0 || end < start || strings.Count(page, "<svg") != 1 {
		t.Fatalf("want exactly one inline <svg> element in the page")
	}
	return page[start : end+len("</svg>")]
}

func TestWriteHTMLGolden(t *testing.T) {
	for _, name := range htmlFixtures {
		t.Run(name, func(t *testing.T) {
			r := htmlFixtureReport(t, name)
			got := htmlRender(t, r)
			if again := htmlRender(t, r); again != got {
				t.Fatal("two renderings of the same report differ")
			}
			golden(t, "html-"+name+".html", []byte(got))
		})
	}
}

// htmlAllowedURIs are the only absolute URIs the page may carry in markup: the
// XML namespaces vgsvg declares on <svg>, which browsers never fetch.
var htmlAllowedURIs = map[string]string{
	"xmlns":       "http://www.w3.org/2000/svg",
	"xmlns:xlink": "http://www.w3.org/1999/xlink",
}

// htmlFetchingTags are elements that load or run something from elsewhere.
var htmlFetchingTags = map[string]bool{
	"script": true, "link": true, "img": true, "iframe": true, "object": true, "embed": true,
	"image": true, "use": true, "audio": true, "video": true, "source": true, "base": true, "form": true,
}

// htmlFetchingAttrs are attributes that point the browser at a resource.
var htmlFetchingAttrs = map[string]bool{
	"src": true, "href": true, "xlink:href": true, "srcset": true, "action": true,
	"formaction": true, "poster": true, "data": true, "background": true, "manifest": true,
}

func TestWriteHTMLSelfContained(t *testing.T) {
	for _, name := range htmlFixtures {
		t.Run(name, func(t *testing.T) {
			page := htmlRender(t, htmlFixtureReport(t, name))
			if strings.Contains(page, "src=") {
				t.Error("page has a src= attribute")
			}
			for _, problem := range htmlExternalReferences(page) {
				t.Error(problem)
			}
		})
	}
}

// htmlExternalReferences walks the page's markup and names every way it could
// make the browser fetch something: fetching elements and attributes,
// absolute URIs in attributes other than the allowed xmlns ones, and url()
// or @import in styles. Text content may mention URLs (the observer's target
// is in the timeline) since text is never fetched.
func htmlExternalReferences(page string) []string {
	var problems []string
	z := html.NewTokenizer(strings.NewReader(page))
	inStyle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				problems = append(problems, "tokenize: "+z.Err().Error())
			}
			return problems
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			inStyle = tok.Data == "style"
			if htmlFetchingTags[tok.Data] {
				problems = append(problems, "fetching element <"+tok.Data+">")
			}
			problems = append(problems, htmlAttrProblems(tok)...)
		case html.EndTagToken:
			inStyle = false
		case html.TextToken:
			if inStyle {
				problems = append(problems, htmlStyleProblems("<style>", string(z.Text()))...)
			}
		}
	}
}

// htmlAttrProblems checks one tag's attributes for references to elsewhere.
func htmlAttrProblems(tok html.Token) []string {
	var problems []string
	for _, a := range tok.Attr {
		key := a.Key
		if a.Namespace != "" {
			key = a.Namespace + ":" + a.Key
		}
		switch {
		case htmlFetchingAttrs[key]:
			problems = append(problems, fmt.Sprintf("<%s %s=%q> fetches", tok.Data, key, a.Val))
		case strings.Contains(a.Val, "://") && htmlAllowedURIs[key] != a.Val:
			problems = append(problems, fmt.Sprintf("<%s %s=%q> holds an absolute URI", tok.Data, key, a.Val))
		case key == "style":
			problems = append(problems, htmlStyleProblems("style attribute of <"+tok.Data+">", a.Val)...)
		}
	}
	return problems
}

// htmlStyleProblems finds CSS that loads resources.
func htmlStyleProblems(where, css string) []string {
	var problems []string
	for _, bad := range []string{"url(", "@import"} {
		if strings.Contains(strings.ToLower(css), bad) {
			problems = append(problems, where+" uses "+bad)
		}
	}
	return problems
}

func TestExternalReferencesCatchesFetches(t *testing.T) {
	for _, page := range []string{
		`<img src="a.png">`,
		`<link rel="stylesheet" href="https://cdn.example/x.css">`,
		`<style>@font-face{src:url(https://fonts.example/f.ttf)}</style>`,
		`<svg xmlns="http://evil.example/ns"></svg>`,
		`<div style="background:url(x.png)"></div>`,
	} {
		if len(htmlExternalReferences(page)) == 0 {
			t.Errorf("htmlExternalReferences(%q) found nothing", page)
		}
	}
	if p := htmlExternalReferences(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><text>see http://127.0.0.1:30080/</text></svg>`); len(p) != 0 {
		t.Errorf("allowed page flagged: %v", p)
	}
}

// htmlHexColor is how vgsvg writes c.
func htmlHexColor(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// svgMarkerLabels counts <text> elements drawn in colour c whose content is name.
func svgMarkerLabels(svg, name string, c color.NRGBA) int {
	re := regexp.MustCompile(`<text[^>]*fill:` + htmlHexColor(c) + `[^>]*>` + regexp.QuoteMeta(name) + `</text>`)
	return len(re.FindAllString(svg, -1))
}

// svgMarkerLines counts vertical straight paths stroked in colour c (dashed
// when dashed is set): one in the label band and one per panel.
func svgMarkerLines(svg string, c color.NRGBA, dashed bool) int {
	re := regexp.MustCompile(`<path d="M([0-9.]+),[0-9.]+L([0-9.]+),[0-9.]+" style="fill:none;stroke:` + htmlHexColor(c) + `;[^"]*"`)
	n := 0
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		if m[1] == m[2] && strings.Contains(m[0], "stroke-dasharray") == dashed {
			n++
		}
	}
	return n
}

// htmlWindowFill matches the translucent closed polygon of the fault window.
// vgsvg writes its colour after alpha premultiplication, so the hue is not
// matched exactly.
var htmlWindowFill = regexp.MustCompile(`<path d="M[^"]*Z" style="fill:#[0-9A-F]{6};fill-opacity:0\.[0-9]+" />`)

func TestWriteHTMLChartMarkers(t *testing.T) {
	for _, name := range htmlFixtures {
		t.Run(name, func(t *testing.T) {
			svg := htmlSVGOf(t, htmlRender(t, htmlFixtureReport(t, name)))
			for _, m := range chartMarkers {
				if n := svgMarkerLabels(svg, m.Name, m.Color); n != 1 {
					t.Errorf("marker %s: %d labels in the SVG, want 1", m.Name, n)
				}
				if n := svgMarkerLines(svg, m.Color, false); n != 3 {
					t.Errorf("marker %s: %d vertical lines, want 3 (label band and two panels)", m.Name, n)
				}
			}
			if n := svgMarkerLabels(svg, chartBudgetLabel, chartBudgetColor); n != 1 {
				t.Errorf("budget marker: %d labels, want 1", n)
			}
			if n := svgMarkerLines(svg, chartBudgetColor, true); n != 3 {
				t.Errorf("budget marker: %d dashed vertical lines, want 3", n)
			}
			if n := len(htmlWindowFill.FindAllString(svg, -1)); n != 3 {
				t.Errorf("%d shaded fault windows in the SVG, want 3 (label band and two panels)", n)
			}
			for _, axis := range []string{">success %</text>", ">p99 ms (log)</text>", ">seconds since t0</text>"} {
				if !strings.Contains(svg, axis) {
					t.Errorf("SVG lacks axis title %s", axis)
				}
			}
		})
	}
}

func TestWriteHTMLTables(t *testing.T) {
	page := htmlRender(t, htmlFixtureReport(t, "canary-bad-version"))
	for _, want := range []string{
		`<title>canary-bad-version 13fda4: pass · firedrill</title>`,
		`<span class="verdict verdict-pass">pass</span>`,
		`<p class="reason">restored in 4.697s (budget 45s), detected by harness SLO monitor</p>`,
		`<table class="summary">`,
		`<td>4.697 s ± 0.020 s vs budget 45.000 s: within budget</td>`,
		`<td>detect 0.519 s · decide 1.011 s · actuate 3.167 s · recover 0.000 s (longest: actuate)</td>`,
		`<td>20 of 235 requests failed (8.51%) between injection and restored</td>`,
		`<th scope="row">Detected by</th><td>harness SLO monitor</td>`,
		`<td>stable v1, canary v2</td>`,
		`<th scope="row">Served version after</th><td>v1</td>`,
		`<th scope="row">Machinery</th><td>deployment</td>`,
		`<td>kind firedrill (context kind-firedrill), Kubernetes v1.37.2</td>`,
		`<td>50 Hz, 1028 requests, 24 failures</td>`,
		`<table class="timeline">`,
		`<tr><td>onset</td><td class="num">7.603 s</td><td></td><td>canary v2 answered status 500 to a user request</td></tr>`,
		`<table class="faults">`,
		`<tr><td>bad-version</td><td>bad-version</td><td>canary-env</td><td>canary</td><td class="num">5.332 s</td><td class="num">7.603 s</td><td class="num">12.300 s</td><td class="num">2.271 s</td><td>no</td><td>no</td></tr>`,
		`<table class="latency">`,
		`<tr><td>onset to restored</td><td class="num">235</td><td class="num">20</td><td class="num">2</td><td class="num">5</td><td class="num">15</td></tr>`,
		`<li><code>/tmp/fixture-run/canary-bad-version-13fda4/samples.csv</code></li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// htmlUnrestoredReport is a failed drill whose service never came back: no
// decided, actuated or restored event and no MTTR.
func htmlUnrestoredReport() *Report {
	r := sampleReport()
	r.Verdict = VerdictFail
	r.Reason = `not restored within 1m0s <script>alert("x")</script>`
	r.MTTR = nil
	r.Budget = Duration(time.Minute)
	r.Timeline = []Event{
		{Name: "onset", Offset: Duration(10 * time.Second)},
		{Name: "detected", Offset: Duration(11 * time.Second)},
	}
	r.SeriesBucket = Duration(time.Second)
	for i := range 90 {
		ok := 1.0
		if i >= 10 {
			ok = 0.5
		}
		r.Series = append(r.Series, SeriesPoint{Offset: Duration(time.Duration(i) * time.Second), Requests: 20, Failures: int(20 * (1 - ok)), SuccessRatio: ok, P99: Duration(30 * time.Millisecond)})
	}
	return r
}

func TestTimelineSVGDrawsOnlyPresentMarkers(t *testing.T) {
	r := htmlUnrestoredReport()
	svg, err := TimelineSVG(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range chartMarkers {
		want := 0
		if m.Name == "onset" || m.Name == "detected" {
			want = 1
		}
		if n := svgMarkerLabels(string(svg), m.Name, m.Color); n != want {
			t.Errorf("marker %s: %d labels, want %d", m.Name, n, want)
		}
	}
	if n := svgMarkerLabels(string(svg), chartBudgetLabel, chartBudgetColor); n != 1 {
		t.Errorf("budget: %d labels, want 1", n)
	}
	if !bytes.HasPrefix(svg, []byte("<?xml")) {
		t.Error("TimelineSVG output is not a standalone SVG document")
	}
}

func TestTimelineChartWindow(t *testing.T) {
	r := htmlUnrestoredReport()
	ch := newTimelineChart(r)
	if !ch.hasWindow || ch.windowFrom != 10 || ch.windowTo != 95 {
		t.Errorf("unrestored window = %v..%v (shown %v), want 10..95: to the drill's end", ch.windowFrom, ch.windowTo, ch.hasWindow)
	}
	if ch.xmax < 95 {
		t.Errorf("x axis ends at %v, before the drill's end", ch.xmax)
	}
	r.Timeline = append(r.Timeline, Event{Name: "restored", Offset: Duration(40 * time.Second)})
	if ch := newTimelineChart(r); ch.windowTo != 40 {
		t.Errorf("restored window ends at %v, want 40", ch.windowTo)
	}
	r.Timeline = nil
	if ch := newTimelineChart(r); ch.hasWindow || len(ch.markers) != 0 {
		t.Errorf("without onset: window %v, markers %v; want neither", ch.hasWindow, ch.markers)
	}
}

func TestTimelineSVGEmptyReport(t *testing.T) {
	r := &Report{Scenario: "empty", Verdict: VerdictSkipped}
	svg, err := TimelineSVG(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("</svg>")) {
		t.Error("no SVG for a report without series or timeline")
	}
	if _, err := TimelineSVG(nil); err == nil {
		t.Error("TimelineSVG(nil) succeeded")
	}
}

func TestChartLabelRows(t *testing.T) {
	markers := []chartMarker{{name: "onset", at: 1}, {name: "detected", at: 1.1}, {name: "decided", at: 5}, {name: "restored", at: 9.9}}
	chartLabelRows(markers, func(at float64) vg.Length { return vg.Length(at * 50) }, 500)
	rows := []int{markers[0].row, markers[1].row, markers[2].row, markers[3].row}
	if want := []int{0, 1, 0, 0}; fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("label rows = %v, want %v: overlapping labels apart, distant ones on the first row", rows, want)
	}
}

func TestWriteHTMLFailedDrill(t *testing.T) {
	page := htmlRender(t, htmlUnrestoredReport())
	for _, want := range []string{
		`<span class="verdict verdict-fail">fail</span>`,
		`<td>not restored (budget 60.000 s)</td>`,
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
		`<td>partition</td><td>network-partition</td><td>—</td><td>—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td><td>yes: Chaos Mesh not installed</td><td>no</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("report text reached the page unescaped")
	}
	if err := WriteHTML(io.Discard, nil); err == nil {
		t.Error("WriteHTML(nil) succeeded")
	}
}
