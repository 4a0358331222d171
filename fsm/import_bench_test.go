package fsm

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// BenchmarkFSM_ImportInto1MPairs applies Import entries shaped like
// bench-scale's (5,000 relay registrations of new addresses, then 5,000
// pairs, each through a relay of its own) into an index of 1M pairs, and
// reports the state machine's CPU per record. Each entry is new (a
// registration applies once), built while the timer is stopped.
func BenchmarkFSM_ImportInto1MPairs(b *testing.B) {
	const half = 5000
	f := bigFSM(100_000, 1_000_000)
	h := &fsmHarness{tb: b, f: f, idx: 1, now: t0}
	var spent time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var w command.ImportWriter
		for j := range half {
			n := i*half + j
			a := netip.AddrFrom4([4]byte{172, byte(n >> 16), byte(n >> 8), byte(n)})
			w.AddRegistration(command.ImportRegistration{Addr: a, Contact: "postmaster@bench.invalid"})
		}
		for j := range half {
			n := i*half + j
			a := netip.AddrFrom4([4]byte{173, byte(n >> 16), byte(n >> 8), byte(n)})
			w.Add(command.ImportRelay{IP: a}, command.ImportRecord{Text: fmt.Sprintf("user%d@domain%d.example", n, n%5000)})
		}
		recs, _ := w.Encode()
		l := h.logs(env(b, command.Import, t0, "", command.ImportBody{By: "admin", Method: "import", Records: recs}))
		b.StartTimer()
		cpu := cpuTime()
		if r := f.ApplyEntries(l)[0].(command.Result); r.Err != nil {
			b.Fatal(r.Err)
		}
		spent += cpuTime() - cpu
	}
	b.ReportMetric(spent.Seconds()*1e6/float64(b.N*2*half), "cpu-µs/record")
}
