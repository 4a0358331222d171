package index

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wlns/wlns/record"
)

// TestCold_WideHeaderRoundTrips: a text too long for the packed length and
// a provenance number too large for its bits both take the wide header,
// and read back whole.
func TestCold_WideHeaderRoundTrips(t *testing.T) {
	ix := New()
	for range provWide>>lenBits - 1 { // fill the packed provenance numbers
		ix.cold.provs = append(ix.cold.provs, prov{})
	}
	long := strings.Repeat("a", 5000) + "@example.org"
	tx := ix.Begin()
	tx.PutPair(&record.Pair{Entity: 1, Sender: long, By: "tok", Method: "api"})
	tx.PutPair(&record.Pair{Entity: 1, Sender: "short@example.org", By: "other", Method: "link"})
	tx.Commit()
	v := ix.Load()
	for _, c := range []struct{ sender, by, method string }{{long, "tok", "api"}, {"short@example.org", "other", "link"}} {
		p := v.Pair(1, []byte(c.sender))
		if p == nil || p.Sender != c.sender || p.By != c.by || p.Method != c.method {
			t.Errorf("read back %+v, want %s by %s via %s", p, c.sender[:10], c.by, c.method)
		}
	}
	if w := v.cold.record(v.LookupPair(1, []byte("short@example.org")).e.cold); w[coldPacked] != provWide {
		t.Errorf("a provenance past the packed bits was packed: %#x", w[coldPacked])
	}
}

// TestCold_GroupLongerThanAChunk: a group whose members' text passes an
// arena chunk (256 KiB) gets chunks of its own and reads back whole, and
// records written after it still read back.
func TestCold_GroupLongerThanAChunk(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	big := &record.Entity{ID: 1, Name: "big", Group: true}
	for i := range 20_000 { // 17 bytes each: about 340 KB
		big.Prefixes = append(big.Prefixes, netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}), 128))
	}
	tx.PutPair(&record.Pair{Entity: 2, Sender: "before@example.org"})
	tx.PutEntity(big)
	tx.PutPair(&record.Pair{Entity: 2, Sender: "after@example.org"})
	tx.Commit()
	v := ix.Load()
	if got := v.Entity(1); got == nil || !slices.Equal(got.Prefixes, big.Prefixes) || got.Name != "big" {
		t.Fatalf("the big group read back wrong")
	}
	if id := v.EntityRefOf(netip.MustParseAddr("2001:db8::4e1f")).ID(); id != 1 {
		t.Errorf("member 19,999 resolves to %d, want 1", id)
	}
	for _, s := range []string{"before@example.org", "after@example.org"} {
		if p := v.Pair(2, []byte(s)); p == nil || p.Sender != s {
			t.Errorf("pair %s read back as %+v", s, p)
		}
	}
}
