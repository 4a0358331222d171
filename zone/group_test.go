package zone

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

// TestRespond_GroupMembershipChanges checks that answers follow the index:
// a member removed from a group stops answering for the group's pairs, and
// the next View is used at once.
func TestRespond_GroupMembershipChanges(t *testing.T) {
	r := newTestResponder(t)
	ix := fixture(t)
	v6 := rev6(t, "2001:db8:1::5")
	names := map[string]string{
		"v4 sender": "dave.umkc.edu.5.2.0.192.sender.wl.example.org.",
		"v6 sender": "dave.umkc.edu." + v6 + "sender.wl.example.org.",
		"v6 relay":  v6 + "relay.wl.example.org.",
	}
	expect := func(desc string, want map[string]int) {
		t.Helper()
		v := ix.Load()
		for k, name := range names {
			if m := ask(t, r, v, name, dns.TypeA); m.Rcode != want[k] || (m.Rcode == 0) != (len(m.Answer) == 1) {
				t.Errorf("%s: %s: rcode %s answers %d, want %s", desc, k, dns.RcodeToString[m.Rcode], len(m.Answer), dns.RcodeToString[want[k]])
			}
		}
	}
	expect("before", map[string]int{"v4 sender": 0, "v6 sender": 0, "v6 relay": 0})

	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Meta: record.Meta{Created: created}})
	tx.Commit()
	expect("IPv6 member removed", map[string]int{"v4 sender": 0, "v6 sender": dns.RcodeNameError, "v6 relay": dns.RcodeNameError})

	tx = ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("2001:db8:1::5/128")},
		Meta:     record.Meta{Created: created}})
	tx.Commit()
	expect("narrower IPv4 prefix, single IPv6 member", map[string]int{"v4 sender": 0, "v6 sender": 0, "v6 relay": 0})
	if m := ask(t, r, ix.Load(), "dave.umkc.edu.200.2.0.192.sender.wl.example.org.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("192.0.2.200 left the group: rcode %s", dns.RcodeToString[m.Rcode])
	}
}
