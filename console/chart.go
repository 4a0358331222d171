package console

import (
	"fmt"
	"strconv"
	"time"
)

// chartDays is how many days the activity chart covers, today last.
const chartDays = 30

// Chart geometry, in SVG user units.
const (
	chartW, chartH       = 720, 200
	chartLeft, chartBase = 40, 170
	chartTop             = 10
)

// bar is one day's stacked bar: confirmed below, the rest above.
type bar struct {
	X, W                   int
	ConfirmedY, ConfirmedH int
	OtherY, OtherH         int
	Label                  string // the day, for the bar's tooltip
	Confirmed, Other       int
}

// tick is a labelled mark on an axis.
type tick struct {
	X, Y int
	Text string
}

// chart is the activity chart: challenges per day over chartDays, drawn
// on the server as inline SVG (no script, no image request), with a text
// summary for screen readers.
type chart struct {
	W, H, Left, Base, Right int
	Bars                    []bar
	XTicks, YTicks          []tick
	Summary                 string
}

// dayCounts counts challenges per day: index 0 is chartDays-1 days ago,
// the last is today (UTC).
type dayCounts struct {
	today     int64 // Unix day number
	confirmed [chartDays]int
	other     [chartDays]int
}

func newDayCounts(now time.Time) *dayCounts { return &dayCounts{today: now.Unix() / 86400} }

// add counts a challenge made at created, confirmed or not.
func (d *dayCounts) add(created int64, confirmed bool) {
	i := chartDays - 1 - int(d.today-created/86400)
	if i < 0 || i >= chartDays {
		return
	}
	if confirmed {
		d.confirmed[i]++
	} else {
		d.other[i]++
	}
}

// chart lays the counts out.
func (d *dayCounts) chart() chart {
	total, confirmed := 0, 0
	for i := range chartDays {
		total += d.confirmed[i] + d.other[i]
		confirmed += d.confirmed[i]
	}
	c := layoutBars(d.today, d.confirmed, d.other)
	c.Summary = fmt.Sprintf("%d challenges in the last %d days, %d of them confirmed; at most %d on one day.", total, chartDays, confirmed, maxDay(d))
	return c
}

// layoutBars draws one stacked bar a day, the last today (a Unix day
// number): low at the bottom, high on top.
func layoutBars(today int64, low, high [chartDays]int) chart {
	top := 1
	for i := range chartDays {
		top = max(top, low[i]+high[i])
	}
	top = niceCeil(top)
	c := chart{W: chartW, H: chartH, Left: chartLeft, Base: chartBase, Right: chartW - 10}
	step := (c.Right - c.Left) / chartDays
	scale := func(n int) int { return int(int64(n) * (chartBase - chartTop) / int64(top)) }
	for i := range chartDays {
		day := time.Unix((today-int64(chartDays-1-i))*86400, 0).UTC()
		b := bar{X: c.Left + i*step + 2, W: step - 4, Confirmed: low[i], Other: high[i], Label: day.Format("2 Jan")}
		b.ConfirmedH = scale(b.Confirmed)
		b.ConfirmedY = chartBase - b.ConfirmedH
		b.OtherH = scale(b.Other)
		b.OtherY = b.ConfirmedY - b.OtherH
		c.Bars = append(c.Bars, b)
		if i%7 == chartDays%7-1 || i == chartDays-1 {
			c.XTicks = append(c.XTicks, tick{X: b.X + b.W/2, Y: chartBase + 18, Text: b.Label})
		}
	}
	for _, n := range []int{0, top / 2, top} {
		if n == 0 && len(c.YTicks) > 0 {
			continue // top is 1: no middle tick
		}
		c.YTicks = append(c.YTicks, tick{X: c.Left - 6, Y: chartBase - scale(n) + 4, Text: shortCount(n)})
	}
	return c
}

// shortCount writes an axis label: 2500 as 2.5k, 3000000 as 3M.
func shortCount(n int) string {
	switch {
	case n >= 1_000_000 && n%100_000 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1000 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(n)
}

func maxDay(d *dayCounts) int {
	m := 0
	for i := range chartDays {
		m = max(m, d.confirmed[i]+d.other[i])
	}
	return m
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the axis
// labels are round.
func niceCeil(n int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
