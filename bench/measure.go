package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/bench/internal/kit"
)

// row is one measured (server, workload, mode).
type row struct {
	server, zone, mode string
	perf               kit.PerfResult
	// loadSecs is exec → correct answer for the last listed name.
	loadSecs            float64
	memBefore, memAfter kit.Memory
	cmdline             string
}

// measure starts s in mode, waits until it answers the last listed name,
// checks a listed and an unlisted answer per workload, then runs dnsperf on
// each workload.
func measure(ctx context.Context, c config, s server, mode string, out io.Writer) ([]row, error) {
	r, err := s.start(ctx, mode)
	if err != nil {
		return nil, err
	}
	defer r.Stop()
	ws := s.workloads()
	load, err := r.WaitAnswer(ctx, ws[0].listed, ws[0].code, 15*time.Minute)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if err := checkAnswers(r.Addr, w); err != nil {
			return nil, fmt.Errorf("checking answers before load: %w", err)
		}
	}
	time.Sleep(time.Second)
	before := kit.TreeMemory(r.PID())
	if ws, ok := s.(*wlnsServer); ok {
		ws.noteHeap(ctx, mode)
	}
	var rows []row
	for _, w := range ws {
		fmt.Fprintf(out, "running %s %s %s for %v\n", s.name(), w.zone, mode, c.Duration)
		p, cmdline, err := kit.RunDnsperf(ctx, c.load(), r.Addr, w.queries, r.PID(), mode == "pin")
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{server: s.name(), zone: w.zone, mode: mode, perf: p,
			loadSecs: load, memBefore: before, memAfter: kit.TreeMemory(r.PID()), cmdline: cmdline})
	}
	select {
	case <-r.Done():
		return nil, fmt.Errorf("%s died under load (%v):\n%s", s.name(), r.WaitErr(), r.LogTail())
	default:
	}
	if ws, ok := s.(*wlnsServer); ok {
		ws.afterMeasure(ctx, r, mode)
	}
	return rows, nil
}

// checkAnswers proves the server answers the workload right before it is
// measured: the listed name gets its A code, the unlisted one the
// workload's negative rcode.
func checkAnswers(addr string, w workload) error {
	m, err := kit.Ask(addr, w.listed)
	if err != nil {
		return err
	}
	if !kit.HasA(m, w.code) {
		return fmt.Errorf("%s: want A %s, got %s %v", w.listed, w.code, dns.RcodeToString[m.Rcode], m.Answer)
	}
	m, err = kit.Ask(addr, w.unlist)
	if err != nil {
		return err
	}
	if dns.RcodeToString[m.Rcode] != w.unRcode || len(m.Answer) != 0 {
		return fmt.Errorf("%s: want %s with no answer, got %s %v", w.unlist, w.unRcode, dns.RcodeToString[m.Rcode], m.Answer)
	}
	return nil
}
