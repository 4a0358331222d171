package zone

import (
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// TestXFR_LargeRelayZoneTransfers writes out a relay zone of
// WLNS_XFR_RELAYS lone registered relays (default 20,000; make
// bench-xfr runs 1,000,000) and transfers it by AXFR, logging the times.
func TestXFR_LargeRelayZoneTransfers(t *testing.T) {
	n := 20_000
	if s := os.Getenv("WLNS_XFR_RELAYS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("WLNS_XFR_RELAYS=%q: %v", s, err)
		}
	}
	ix := index.New()
	tx := ix.Begin()
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		tx.PutEntity(&record.Entity{ID: uint64(i + 1), Registered: true, Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)},
			Meta: record.Meta{Created: created}})
	}
	tx.SetZoneSerial(7)
	tx.Commit()
	start := time.Now()
	x := startXFR(t, ix, nil)
	built := time.Since(start)
	start = time.Now()
	rrs, err := transfer(t, x, "relay."+testApex+".", dns.TypeAXFR, 0, testKey, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	// SOA, NS, an A and a TXT per relay (and the RFC 5782 test entry), SOA.
	if want := 2*(n+1) + 3; len(rrs) != want {
		t.Fatalf("AXFR of %d relays: %d records, want %d", n, len(rrs), want)
	}
	t.Logf("%d relays: written out in %v, AXFR of %d records in %v (%.0f records/s)", n, built.Round(time.Millisecond), len(rrs), took.Round(time.Millisecond), float64(len(rrs))/took.Seconds())
}
