package console

import (
	"strings"
	"testing"
	"time"
)

func TestChart_StacksConfirmedUnderTheRestPerDay(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	d := newDayCounts(now)
	day := func(ago int) int64 { return now.Add(-time.Duration(ago) * 24 * time.Hour).Unix() }
	for range 3 {
		d.add(day(0), true)
	}
	d.add(day(0), false)
	d.add(day(2), false)
	d.add(day(30), true) // outside the chart
	c := d.chart()
	if len(c.Bars) != chartDays {
		t.Fatalf("%d bars, want %d", len(c.Bars), chartDays)
	}
	today, twoAgo := c.Bars[chartDays-1], c.Bars[chartDays-3]
	if today.Confirmed != 3 || today.Other != 1 || twoAgo.Other != 1 || today.Label != "7 Dec" {
		t.Errorf("today %+v, two days ago %+v", today, twoAgo)
	}
	// The axis tops at 5 (the round value above 4): 4 of 5 is 4/5 of the height.
	full := chartBase - chartTop
	if today.ConfirmedH != 3*full/5 || today.OtherH != full/5 || today.OtherY+today.OtherH != today.ConfirmedY || today.ConfirmedY+today.ConfirmedH != chartBase {
		t.Errorf("today's bar %+v does not stack 3 and 1 of 5 on the base line", today)
	}
	if !strings.Contains(c.Summary, "5 challenges in the last 30 days, 3 of them confirmed; at most 4 on one day") {
		t.Errorf("summary %q", c.Summary)
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 5, 6: 10, 11: 20, 499: 500, 501: 1000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}
