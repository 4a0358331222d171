package index

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wlns/wlns/record"
)

// host4Preimage is the address whose /32 key is k (host4Key inverted: the
// multiplier is odd, so it has an inverse modulo 2^32).
func host4Preimage(k uint32) uint32 {
	inv := uint32(0x9E3779B1)
	for range 5 {
		inv *= 2 - 0x9E3779B1*inv
	}
	return k * inv
}

// groupOf is group id with the /32 members addrs.
func groupOf(id uint64, addrs []uint32) *record.Entity {
	e := &record.Entity{ID: id, Name: fmt.Sprintf("g%d", id), Group: true}
	for _, u := range addrs {
		e.Prefixes = append(e.Prefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}), 32))
	}
	return e
}

// dirSlotsOf is how many directory slots a /32 table holds.
func dirSlotsOf(tb *atab[uint32, uint32]) int { return len(tb.pages) * dirSlots }

// The /32 table's directory is bounded by its entries, whatever the keys:
// 257 members whose keys share 23 bits (chosen addresses, or a forged
// snapshot of ~2 KB) made a 2^24-slot directory (128 MiB) when inserted
// and when loaded; now at most max(512, 4n) slots, with one long leaf that
// still answers every member. A group of every host of a /23 never came
// near it (the keys are the addresses times an odd constant).
func TestHost4_DirectoryIsBoundedByTheEntries(t *testing.T) {
	clustered := make([]uint32, 257)
	for i := range clustered {
		clustered[i] = host4Preimage(0xabcd_e000 + uint32(i))
	}
	slash23 := make([]uint32, 512)
	for i := range slash23 {
		slash23[i] = 0xc0_00_02_00 + uint32(i) // 192.0.2.0/23
	}
	for name, addrs := range map[string][]uint32{"keys sharing 23 bits": clustered, "every host of a /23": slash23} {
		t.Run(name, func(t *testing.T) {
			ix := New()
			tx := ix.Begin()
			tx.PutEntity(groupOf(1, addrs))
			tx.Commit()
			back, err := loadFlat(writeFlat(t, ix.Load()), nil)
			if err != nil {
				t.Fatal(err)
			}
			for how, v := range map[string]*View{"inserted": ix.Load(), "loaded": back.Load()} {
				if n, max := dirSlotsOf(&v.host4), max(dirSlots, 4*len(addrs)); n > max {
					t.Errorf("%s: %d directory slots for %d keys, want at most %d", how, n, len(addrs), max)
				}
				for _, u := range addrs {
					if e := v.EntityOf(netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})); e == nil || e.ID != 1 {
						t.Fatalf("%s: member %08x resolves to %+v", how, u, e)
					}
				}
			}
		})
	}
}
