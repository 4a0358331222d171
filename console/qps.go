package console

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// qpsMetric is the counter the query rate is read from.
const qpsMetric = "wlns_dns_queries_total"

// qpsKeep is how many samples the sampler keeps: an hour of minutes.
const qpsKeep = 60

// qpsZones are the zones drawn, in legend order.
var qpsZones = []string{"relay", "sender", "verp", "apex", "other"}

// qpsSampler keeps this node's DNS queries per second by zone, one point
// per sample over the last qpsKeep samples, from the DNS server's own
// counter: the history lives only in this node's memory.
type qpsSampler struct {
	g prometheus.Gatherer

	mu     sync.Mutex
	last   map[string]float64
	lastAt time.Time
	points []qpsPoint
}

// qpsPoint is the rate per zone between two samples.
type qpsPoint struct {
	At     time.Time
	ByZone map[string]float64
}

// sample reads the counter at now and appends the rate since the last
// sample.
func (s *qpsSampler) sample(now time.Time) error {
	mfs, err := s.g.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	cur := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != qpsMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "zone" {
					cur[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last != nil && now.After(s.lastAt) {
		secs := now.Sub(s.lastAt).Seconds()
		p := qpsPoint{At: now, ByZone: map[string]float64{}}
		for z, v := range cur {
			p.ByZone[z] = max(0, v-s.last[z]) / secs
		}
		s.points = append(s.points, p)
		if len(s.points) > qpsKeep {
			s.points = slices.Delete(s.points, 0, len(s.points)-qpsKeep)
		}
	}
	s.last, s.lastAt = cur, now
	return nil
}

// samples returns a copy of the points.
func (s *qpsSampler) samples() []qpsPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.points)
}

// line is one zone's rate as an SVG polyline.
type line struct {
	Zone, Points string
	Last         float64
}

// qpsChart is the query-rate chart of the cluster page.
type qpsChart struct {
	W, H, Left, Base, Right int
	Lines                   []line
	YTicks                  []tick
	From, To                string
	Summary                 string
}

// chart lays out this node's samples; nil when there are fewer than two.
func (s *qpsSampler) chart() *qpsChart { return drawQPS(s.samples(), "this node") }

// drawQPS lays out one node's samples (who names it in the summary); nil
// when there are fewer than two.
func drawQPS(pts []qpsPoint, who string) *qpsChart {
	if len(pts) < 2 {
		return nil
	}
	top := 1.0
	for _, p := range pts {
		for _, v := range p.ByZone {
			top = max(top, v)
		}
	}
	ceil := niceCeil(int(top + 0.999))
	c := &qpsChart{W: chartW, H: chartH, Left: chartLeft, Base: chartBase, Right: chartW - 10,
		From: pts[0].At.UTC().Format("15:04"), To: pts[len(pts)-1].At.UTC().Format("15:04 MST")}
	step := float64(c.Right-c.Left) / float64(qpsKeep-1)
	x0 := float64(c.Right) - step*float64(len(pts)-1)
	var sum []string
	for _, z := range qpsZones {
		var b strings.Builder
		for i, p := range pts {
			y := float64(chartBase) - p.ByZone[z]*float64(chartBase-chartTop)/float64(ceil)
			fmt.Fprintf(&b, "%.1f,%.1f ", x0+step*float64(i), y)
		}
		last := pts[len(pts)-1].ByZone[z]
		c.Lines = append(c.Lines, line{Zone: z, Points: strings.TrimSpace(b.String()), Last: last})
		sum = append(sum, fmt.Sprintf("%s %.1f", z, last))
	}
	for _, n := range []int{0, ceil / 2, ceil} {
		if n == 0 && len(c.YTicks) > 0 {
			continue
		}
		c.YTicks = append(c.YTicks, tick{X: c.Left - 6, Y: chartBase - n*(chartBase-chartTop)/ceil + 4, Text: fmt.Sprint(n)})
	}
	c.Summary = fmt.Sprintf("DNS queries per second on %s from %s to %s; the last minute: %s.", who, c.From, c.To, strings.Join(sum, ", "))
	return c
}
