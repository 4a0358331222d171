package suggest

import (
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// benchView is n pairs over n/50 lone relays in pools of four: of the
// senders through a pool, a third are verified through all four relays
// (one user sending from each), the rest through one; every hundredth
// sender is also verified through 200 relays across the index (a list
// everyone confirmed, skipped by the cap). Each relay holds about 60
// pairs, 40 of them shared with its pool.
func benchView(n int) *index.View {
	ents := uint64(n / 50)
	ix := index.New()
	tx := ix.Begin()
	for id := uint64(1); id <= ents; id++ {
		a := netip.AddrFrom4([4]byte{10, byte(id >> 16), byte(id >> 8), byte(id)})
		tx.PutEntity(&record.Entity{ID: id, Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)}})
	}
	put := func(id uint64, s string) {
		tx.PutPair(&record.Pair{Entity: id%ents + 1, Sender: s, By: "import", Method: "import"})
	}
	for i, held := 0, 0; held < n; i++ {
		s := "user" + strconv.Itoa(i) + "@example.org"
		id := uint64(i / 30)
		switch {
		case i%100 == 1:
			for k := range uint64(200) {
				put(id+k*97, s)
			}
			held += 200
		case i%3 == 0:
			for k := range uint64(4) {
				put(id/4*4+k, s)
			}
			held += 4
		default:
			put(id, s)
			held++
		}
	}
	tx.Commit()
	return ix.Load()
}

// BenchmarkFind_1M is Find over 1M pairs (WLNS_SUGGEST_PAIRS overrides the
// count, e.g. 10000000 under flock /tmp/wlns-big.lock).
func BenchmarkFind_1M(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("WLNS_SUGGEST_PAIRS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	v := benchView(n)
	b.ReportAllocs()
	var found int
	cpu0 := cpuTime()
	for b.Loop() {
		found = len(Find(v, Config{}))
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(found), "suggestions")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
	b.Logf("%d pairs, %d suggestions", v.Counts().Pairs, found)
}

// cpuTime is the process's user and system CPU time: the machine is shared,
// so wall time per op swings with the neighbours' load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
