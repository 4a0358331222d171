package childzone

import (
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zone"
)

// BenchmarkExportCut measures writing out one cut zone as the cluster's
// transfer port does for a serve-only node (docs/delegation.md gives the
// figures): 100,000 relays with 10 pairs each, ten of them in the
// delegated /24.
func BenchmarkExportCut(b *testing.B) {
	ix := index.New()
	tx := ix.Begin()
	for e := 1; e <= 100_000; e++ {
		a := netip.AddrFrom4([4]byte{10, byte(e >> 16), byte(e >> 8), byte(e)})
		if e <= 10 {
			a = netip.AddrFrom4([4]byte{192, 0, 2, byte(e)})
		}
		tx.PutEntity(&record.Entity{ID: uint64(e), Registered: true, Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)}})
		for p := range 10 {
			tx.PutPair(&record.Pair{Entity: uint64(e), Sender: fmt.Sprintf("u%d@d%d.example", p, e)})
		}
	}
	d := &record.Delegation{Prefix: prefix, NS: []record.NameServer{{Name: "ns.pm.example"}}}
	if err := tx.PutDelegation(d); err != nil {
		b.Fatal(err)
	}
	tx.Commit()
	v := ix.Load()
	for _, tree := range []string{"relay", "sender"} {
		b.Run(tree, func(b *testing.B) {
			for b.Loop() {
				if err := zone.Export(io.Discard, v, d, zone.ExportConfig{Apex: apex, Tree: tree}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
