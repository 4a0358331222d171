package zone

import (
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

const benchSize = 1_000_000

var benchIndex = sync.OnceValue(func() *index.Index {
	ix := index.New()
	tx := ix.Begin()
	for i := 0; i < benchSize; i++ {
		id := uint64(i + 1)
		ip := benchIP(i)
		tx.PutEntity(&record.Entity{ID: id, Registered: true, Prefixes: []netip.Prefix{netip.PrefixFrom(ip, 32)}})
		tx.PutPair(&record.Pair{Entity: id, Sender: benchSender(i)})
	}
	tx.Commit()
	return ix
})

// benchIP spreads the entities over 10.0.0.0/8 and 11.0.0.0/8.
func benchIP(i int) netip.Addr {
	u := uint32(10<<24) + uint32(i)*7
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
}

func benchSender(i int) string { return fmt.Sprintf("first.last%d@example%d.com", i, i%1000) }

func rev4(ip netip.Addr) string {
	a := ip.As4()
	return fmt.Sprintf("%d.%d.%d.%d", a[3], a[2], a[1], a[0])
}

func benchRespond(b *testing.B, name func(i int) string, wantRcode, wantAnswers int) {
	ix := benchIndex()
	r := newTestResponder(b)
	const n = 1 << 14 // distinct queries, so lookups miss the CPU cache as in service
	reqs := make([][]byte, n)
	for i := range reqs {
		q := new(dns.Msg)
		q.SetQuestion(name(i*977%benchSize), dns.TypeA)
		q.SetEdns0(1232, false)
		reqs[i], _ = q.Pack()
	}
	m := exchange(b, r, ix.Load(), reqs[0], 1232)
	if m.Rcode != wantRcode || len(m.Answer) != wantAnswers {
		b.Fatalf("fixture answer is wrong: %v", m)
	}
	buf := make([]byte, 0, 4096)
	runtime.GC() // finish marking the fixture before timing
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := ix.Load()
		buf, _ = r.Respond(buf, reqs[i%n], v, 1232)
	}
}

func BenchmarkRespond_RelayHit(b *testing.B) {
	benchRespond(b, func(i int) string { return rev4(benchIP(i)) + ".relay.wl.example.org." }, 0, 1)
}

func BenchmarkRespond_RelayMiss(b *testing.B) {
	benchRespond(b, func(i int) string { return rev4(benchIP(i).Next()) + ".relay.wl.example.org." }, dns.RcodeNameError, 0)
}

func BenchmarkRespond_SenderEscapedHit(b *testing.B) {
	benchRespond(b, func(i int) string {
		return fmt.Sprintf(`first\.last%d.example%d.com.%s.sender.wl.example.org.`, i, i%1000, rev4(benchIP(i)))
	}, 0, 1)
}

func BenchmarkRespond_SenderUnescapedHit(b *testing.B) {
	benchRespond(b, func(i int) string {
		return fmt.Sprintf(`first.last%d.example%d.com.%s.sender.wl.example.org.`, i, i%1000, rev4(benchIP(i)))
	}, 0, 1)
}

func BenchmarkRespond_SenderHashedHit(b *testing.B) {
	benchRespond(b, func(i int) string {
		return record.HashLabel(benchSender(i)) + "." + rev4(benchIP(i)) + ".sender.wl.example.org."
	}, 0, 1)
}

func BenchmarkRespond_SenderMissNoData(b *testing.B) {
	benchRespond(b, func(i int) string {
		return fmt.Sprintf(`someone.else.example%d.com.%s.sender.wl.example.org.`, i%1000, rev4(benchIP(i)))
	}, 0, 0)
}

func BenchmarkRespond_SenderNXDomain(b *testing.B) {
	benchRespond(b, func(i int) string {
		return fmt.Sprintf(`first.last%d.example%d.com.%s.sender.wl.example.org.`, i, i%1000, rev4(benchIP(i).Next()))
	}, dns.RcodeNameError, 0)
}

// BenchmarkStats_Count is the per-query cost of the metrics on the UDP path.
func BenchmarkStats_Count(b *testing.B) {
	var s stats
	o := outcome{zone: zoneSender, result: resListed}
	for i := 0; i < b.N; i++ {
		s.count(o)
		if i&31 == 0 {
			s.observe(3*time.Microsecond, 32) // once per batch of 32
		}
	}
}
