package expiry

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// seenIndex builds n pairs over n/10 entities, senders of 30 octets
// ("user0000042@domain0004.example"), every one seen within the last ten
// minutes, as after a touch interval in which all of them were queried;
// reported: and already reported (LastQueried at the mark).
func seenIndex(n int, now int64, reported bool) *index.Index {
	ix := index.New()
	txn := ix.BeginEmpty()
	for e := range n / 10 {
		ent := &record.Entity{ID: uint64(e + 1), Prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(e >> 16), byte(e >> 8), byte(e)}), 32)}}
		txn.PutEntity(ent)
	}
	for i := range n {
		p := &record.Pair{Entity: uint64(i%(n/10) + 1), Sender: fmt.Sprintf("user%07d@domain%04d.example", i, i%10000)}
		p.Created = now - 30*86400
		p.MarkSeen(now - int64(i%600))
		if reported {
			p.LastQueried = p.Seen()
		}
		txn.PutPair(p)
	}
	txn.Commit()
	return ix
}

// BenchmarkTouch_BytesPerRecord measures the log bytes one reported record
// costs (the default 256 KiB chunks, encoded envelopes) and the walk.
func BenchmarkTouch_BytesPerRecord(b *testing.B) {
	const n = 100_000
	now := int64(1_700_000_000)
	v := seenIndex(n, now, false).Load()
	var bytes, entries int
	for b.Loop() {
		bytes, entries = 0, 0
		for _, body := range Collect(v, now, 86400, DefaultMaxBody) {
			e, err := command.New(command.Touch, now, "", body)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := e.Encode()
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(raw)
			entries++
		}
	}
	b.ReportMetric(float64(bytes)/n, "bytes/record")
	b.ReportMetric(float64(entries), "entries")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkTouch_WalkNothingDue is the touch loop's cost on a node whose
// records are all reported already: one pass over the index.
func BenchmarkTouch_WalkNothingDue(b *testing.B) {
	const n = 100_000
	now := int64(1_700_000_000)
	v := seenIndex(n, now, true).Load()
	for b.Loop() {
		if got := Collect(v, now, 86400, DefaultMaxBody); len(got) != 0 {
			b.Fatalf("%d bodies, want none", len(got))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}
