package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// render is the markdown block of the snapshot scenario for
// docs/performance.md, followed by the per-second write timeline and the
// mirror's snapshot log lines.
func (r *snapRun) render(c config) string {
	var b strings.Builder
	host, _ := os.Hostname()
	pin := ""
	if c.pin {
		pin = " -pin"
	}
	fmt.Fprintf(&b, "snapshot benchmark (go run ./bench/cluster -mode snapshot -n %d -writers %d -baseline %v -after %v -log-pad %d -probe-rate %d%s) on %s, %d CPUs, load average before: %s\n",
		c.pairs, c.writers, c.baseline, c.after, c.logPad, c.probeRate, pin, host, runtime.NumCPU(), r.load)
	fmt.Fprintf(&b, "built from %s\n\n", r.tree)
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| two voters filled (relays, %d padding writes, %d pairs imported) | %.1f s, %d pairs in all |\n", c.logPad, c.pairs, r.fill.Seconds(), r.pairs)
	fmt.Fprintf(&b, "| leader's snapshot sent to the new node | index %d, %.1f MB |\n", r.snapIndex, float64(r.snapBytes)/1e6)
	if r.restored > 0 {
		fmt.Fprintf(&b, "| new node: launch to snapshot restored (join, transfer, restore) | %.1f s (the restore itself %.1f s, up to index %d) |\n",
			r.restored.Seconds(), r.restoreTook.Seconds(), r.restoredSerial)
	} else {
		fmt.Fprintf(&b, "| new node: launch to snapshot restored | **no snapshot restore in its log: it caught up from the log** |\n")
	}
	if r.transferTo > 0 {
		fmt.Fprintf(&b, "| snapshot transfer over the inter-node port (new node's log: transfer started → on disk) | %.1f s → %.1f s after launch (%.2f s) |\n",
			r.transferFrom.Seconds(), r.transferTo.Seconds(), (r.transferTo - r.transferFrom).Seconds())
	}
	fmt.Fprintf(&b, "| new node: launch to ready file | %.1f s |\n", r.ready.Seconds())
	fmt.Fprintf(&b, "| new node: launch to caught up with the leader | %.1f s (RSS %.0f MiB) |\n", r.caught.Seconds(), r.mirrorRSS)
	if r.promoted > 0 {
		fmt.Fprintf(&b, "| new node: launch to voter | %.1f s |\n", r.promoted.Seconds())
	}
	b.WriteString("\n| window | s | writes ok | writes/s | p50 ms | p99 ms | max ms | longest gap ms | failed (spooled) | DNS p50 ms | DNS p99 ms | DNS max ms | DNS failed |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	base := statsIn(r.writes, r.windows[0])
	for _, w := range r.windows {
		s, d := statsIn(r.writes, w), statsIn(r.probes, w)
		fmt.Fprintf(&b, "| %s | %.1f | %d | %.0f | %s | %s | %s | %s | %d (%d) | %s | %s | %s | %d/%d |\n",
			w.name, w.secs(), s.n-s.failed, s.rate, ms(s.p50), ms(s.p99), ms(s.max), ms(s.gap), s.failed, s.spooled,
			ms(d.p50), ms(d.p99), ms(d.max), d.failed, d.n)
	}
	during, after := statsIn(r.writes, r.windows[1]), statsIn(r.writes, r.windows[len(r.windows)-1])
	if base.rate > 0 && base.p99 > 0 && after.rate > 0 && after.p99 > 0 {
		fmt.Fprintf(&b, "\nwhile the new node joined: write rate ×%.2f of baseline and ×%.2f of after; p99 ×%.2f of baseline and ×%.2f of after\n",
			during.rate/base.rate, during.rate/after.rate, float64(during.p99)/float64(base.p99), float64(during.p99)/float64(after.p99))
	}
	b.WriteString("\n| window | leader | follower | new node | bench (writers, prober) | whole machine | everything else | iowait | wlns CPU ms per write |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, w := range r.windows {
		who := []string{"n1", "n2", "n3", "bench"}
		var sum float64
		cells := make([]string, 0, 6)
		for _, id := range who {
			v := cores(w.cpu0, w.cpu1, id)
			sum += v
			cells = append(cells, fmt.Sprintf("%.2f", v))
		}
		m := cores(w.cpu0, w.cpu1, "machine")
		nodes := sum - cores(w.cpu0, w.cpu1, "bench")
		perWrite := "–"
		if ws := statsIn(r.writes, w); ws.rate > 0 {
			perWrite = fmt.Sprintf("%.2f", nodes/ws.rate*1000)
		}
		cells = append(cells, fmt.Sprintf("%.2f", m), fmt.Sprintf("%.2f", max(m-sum, 0)), fmt.Sprintf("%.2f", cores(w.cpu0, w.cpu1, "iowait")), perWrite)
		fmt.Fprintf(&b, "| %s | %s |\n", w.name, strings.Join(cells, " | "))
	}
	b.WriteString("\n(CPU in cores: CPU-seconds ÷ window seconds, from /proc/PID/stat and /proc/stat; the machine has 2.)\n")
	b.WriteString("\nper sample (seconds from the baseline's start; writes completed in the interval; CPU in cores):\n\n```\n")
	b.WriteString(r.timeline())
	b.WriteString("\n```\n\nsnapshots taken and sent by every node (seconds from the baseline's start):\n\n```\n")
	for _, l := range r.snapEvents {
		b.WriteString(l + "\n")
	}
	b.WriteString("```\n\nthe new node's log lines about snapshots (seconds after its launch):\n\n```\n")
	for _, l := range r.snapLog {
		b.WriteString(l + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}

// timeline is one line per CPU sample: time, writes completed since the
// previous sample (as a rate), and each process's cores meanwhile.
func (r *snapRun) timeline() string {
	marks := r.cpu.all()
	if len(marks) < 2 {
		return ""
	}
	start, join, caught := r.windows[0].from, r.windows[1].from, r.windows[1].to
	var b strings.Builder
	fmt.Fprintf(&b, "%7s %8s %6s %6s %6s %7s %6s\n", "t s", "writes/s", "n1", "n2", "n3", "machine", "iowait")
	a := marks[0]
	for _, z := range marks[1:] {
		secs := z.at.Sub(a.at).Seconds()
		if secs < 0.05 { // an event mark right after a tick: fold it into the next row
			continue
		}
		n := 0
		for _, o := range r.writes {
			if e := o.start.Add(o.took); o.ok && e.After(a.at) && !e.After(z.at) {
				n++
			}
		}
		note := ""
		switch {
		case !a.at.After(join) && z.at.After(join):
			note = "  ← new node launched"
		case !a.at.After(caught) && z.at.After(caught):
			note = "  ← caught up"
		}
		fmt.Fprintf(&b, "%7.1f %8.0f %6.2f %6.2f %6.2f %7.2f %6.2f%s\n", z.at.Sub(start).Seconds(), float64(n)/secs,
			cores(a, z, "n1"), cores(a, z, "n2"), cores(a, z, "n3"), cores(a, z, "machine"), cores(a, z, "iowait"), note)
		a = z
	}
	return strings.TrimRight(b.String(), "\n")
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", d.Seconds()*1000)
}
