package index

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wlns/wlns/record"
)

// buildBig returns an index with n lone relays (10.x.y.z) and one address
// pair per relay.
func buildBig(b *testing.B, n int) *Index {
	b.Helper()
	ix := New()
	tx := ix.Begin()
	for i := 0; i < n; i++ {
		id := uint64(i + 1)
		tx.PutEntity(&record.Entity{ID: id, Registered: true, Prefixes: []netip.Prefix{netip.PrefixFrom(ipOf(i), 32)}})
		tx.PutPair(&record.Pair{Entity: id, Sender: fmt.Sprintf("user%d@example.org", i)})
	}
	tx.Commit()
	return ix
}

func ipOf(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// BenchmarkEntityOf_1M is the DNS path's look-up of a relay by address
// (EntityRefOf) among 1M lone relays.
func BenchmarkEntityOf_1M(b *testing.B) {
	ix := buildBig(b, 1_000_000)
	v := ix.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !v.EntityRefOf(ipOf(i * 7919 % 1_000_000)).Found() {
			b.Fatal("miss")
		}
	}
}

func BenchmarkPair_1M(b *testing.B) {
	ix := buildBig(b, 1_000_000)
	v := ix.Load()
	senders := make([][]byte, 1024)
	for i := range senders {
		senders[i] = []byte(fmt.Sprintf("user%d@example.org", i*977))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(senders)
		if !v.LookupPair(uint64(k*977+1), senders[k]).Found() {
			b.Fatal("miss")
		}
	}
}

func BenchmarkCommitOnePair_1M(b *testing.B) {
	ix := buildBig(b, 1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tx := ix.Begin()
		tx.PutPair(&record.Pair{Entity: uint64(i%1000 + 1), Sender: fmt.Sprintf("new%d@example.org", i)})
		tx.Commit()
	}
}
