package index

import (
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
