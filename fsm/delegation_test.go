package fsm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func delegBody(prefix string, ns ...string) command.DelegationBody {
	b := command.DelegationBody{Prefix: prefix, By: "pm"}
	for _, n := range ns {
		b.NS = append(b.NS, command.DelegationNS{Name: n, Addrs: []string{"198.51.100.53"}})
	}
	return b
}

func TestFSM_DelegationPutReplaceDelete(t *testing.T) {
	h := newHarness(t)
	if r := h.ok(command.DelegationPut, delegBody("192.0.2.0/24", "NS2.pm.example.", "ns1.pm.example")); !r.Created {
		t.Fatal("first put not reported as created")
	}
	d := h.view().Delegation("192.0.2")
	if d == nil || len(d.NS) != 2 || d.NS[0].Name != "ns1.pm.example" || d.Created != t0 {
		t.Fatalf("delegation after put: %+v", d)
	}
	h.now += 10
	if r := h.ok(command.DelegationPut, delegBody("192.0.2.0/24", "ns3.pm.example")); r.Created {
		t.Fatal("replacement reported as created")
	}
	d = h.view().Delegation("192.0.2")
	if len(d.NS) != 1 || d.Created != t0 || d.Updated != t0+10 {
		t.Fatalf("replaced delegation: %+v", d)
	}
	if got := h.view().DelegationDepths(); len(got) != 1 || got[0] != 3 {
		t.Fatalf("depths %v, want [3]", got)
	}
	h.ok(command.DelegationDelete, command.DelegationBody{Prefix: "192.0.2.0/24"})
	if h.view().Delegation("192.0.2") != nil || len(h.view().Delegations()) != 0 {
		t.Fatal("delegation still there after delete")
	}
}

func TestFSM_DelegationRefusals(t *testing.T) {
	h := newHarness(t)
	h.ok(command.DelegationPut, delegBody("192.0.2.0/24", "ns1.pm.example"))
	cases := []struct {
		name string
		typ  command.Type
		body command.DelegationBody
		code command.Code
	}{
		{"not on a label", command.DelegationPut, delegBody("192.0.2.0/25", "ns.example"), command.Invalid},
		{"ambiguous cut", command.DelegationPut, delegBody("1.2.3.0/24", "ns.example"), command.Invalid},
		{"inside another", command.DelegationPut, delegBody("192.0.2.4/32", "ns.example"), command.Conflict},
		{"around another", command.DelegationPut, delegBody("192.0.0.0/16", "ns.example"), command.Conflict},
		{"no name server", command.DelegationPut, command.DelegationBody{Prefix: "198.51.100.0/24"}, command.Invalid},
		{"bad glue", command.DelegationPut, command.DelegationBody{Prefix: "198.51.100.0/24", NS: []command.DelegationNS{{Name: "ns.example", Addrs: []string{"x"}}}}, command.Invalid},
		{"delete unknown", command.DelegationDelete, command.DelegationBody{Prefix: "198.51.100.0/24"}, command.NotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.typ, c.body)
			if r.Err == nil || r.Err.Code != c.code {
				t.Fatalf("result %+v, want %s", r.Err, c.code)
			}
		})
	}
	if n := len(h.view().Delegations()); n != 1 {
		t.Fatalf("%d delegations after refusals, want 1", n)
	}
}

func TestSnapshot_DelegationsRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.ok(command.DelegationPut, delegBody("192.0.2.0/24", "ns1.pm.example", "ns2.pm.example"))
	h.ok(command.DelegationPut, delegBody("2001:db8::/32", "ns1.pm.example"))
	snap := persist(t, h.f)
	if snap[len(snapMagic)] != snapVersion {
		t.Fatalf("format %d, want %d", snap[len(snapMagic)], snapVersion)
	}
	b := NewFSM(nil, nil)
	if _, err := b.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if again := persist(t, b); !bytes.Equal(snap, again) {
		t.Fatal("persist after restore differs")
	}
	want, _ := json.Marshal(h.view().Delegations())
	got, _ := json.Marshal(b.Index().Load().Delegations())
	if !bytes.Equal(want, got) || b.Index().Load().Delegation("2.0.0.1.0.d.b.8") == nil {
		t.Fatalf("restored delegations\n%s\nwant\n%s", got, want)
	}
}

// TestFSM_DelegatedSpaceKeepsItsRecordsAndOpensNoChallenges: wlns never
// answers below a cut, so nothing there is ever marked seen; its records
// stay until the postmaster deletes them or the delegation ends, and a
// confirmation could not change what the postmaster's servers answer.
func TestFSM_DelegatedSpaceKeepsItsRecordsAndOpensNoChallenges(t *testing.T) {
	h := newHarness(t)
	h.ok(command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.4"}, Registered: true, Contact: "pm@umkc.edu"})
	h.ok(command.EntityPut, command.EntityBody{Prefixes: []string{"198.51.100.9"}, Registered: true, Contact: "pm@example.net"})
	for _, ip := range []string{"192.0.2.4", "198.51.100.9"} {
		h.ok(command.PairPut, command.PairBody{Sender: "dave@umkc.edu", IP: ip})
		h.ok(command.VerpPut, command.VerpBody{Domain: "lists.umkc.edu", IP: ip})
	}
	h.ok(command.DelegationPut, delegBody("192.0.2.0/24", "ns1.pm.example"))

	wantRejected(t, h.do(command.ChallengeOpen, chOpen("c1", "eve@umkc.edu", "192.0.2.4")), command.Refused, "192.0.2.0/24, delegated")
	h.ok(command.ChallengeOpen, chOpen("c2", "eve@umkc.edu", "198.51.100.9"))

	far := int64(t0 + 1000*86400)
	h.now = far
	h.ok(command.Expire, command.ExpireBody{Pairs: far, DomainPairs: far, Verps: far, Relays: far, Orphans: far})
	v := h.view()
	if v.Pair(entityIDOf(v, "192.0.2.4"), []byte("dave@umkc.edu")) == nil || v.Verp(entityIDOf(v, "192.0.2.4"), []byte("lists.umkc.edu")) == nil {
		t.Fatal("a sweep deleted records of a delegated relay")
	}
	if entityIDOf(v, "198.51.100.9") != 0 {
		t.Fatal("the sweep kept the records of a relay outside the delegation")
	}
	h.ok(command.DelegationDelete, command.DelegationBody{Prefix: "192.0.2.0/24"})
	h.ok(command.Expire, command.ExpireBody{Pairs: far, DomainPairs: far, Verps: far, Relays: far, Orphans: far})
	if v := h.view(); entityIDOf(v, "192.0.2.4") != 0 {
		t.Fatal("records kept after the delegation ended")
	}
}

// A delegation's glue lies below its own cut: a name server with
// addresses anywhere else (another name in the zone, another prefix's
// cut, a name outside the zone) is refused before the log.
func TestStore_DelegationGlueOnlyBelowItsCut(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"ns1.2.0.192.relay.wl.example.org", true},
		{"ns1.2.0.192.sender.wl.example.org", true},
		{"ns.x.wl.example.org", false},
		{"ns.2.0.198.relay.wl.example.org", false},
		{"ns.pm.example", false},
	}
	for _, c := range cases {
		e := env(t, command.DelegationPut, t0, "", delegBody("192.0.2.0/24", c.name))
		if err := CheckProposal(e); (err == nil) != c.ok {
			t.Errorf("name server %s with an address: %v, want accepted %v", c.name, err, c.ok)
		}
	}
	noGlue := command.DelegationBody{Prefix: "192.0.2.0/24", NS: []command.DelegationNS{{Name: "ns.pm.example"}}}
	if err := CheckProposal(env(t, command.DelegationPut, t0, "", noGlue)); err != nil {
		t.Errorf("a name server outside the zone without addresses: %v", err)
	}
}

// A damaged or forged snapshot cannot give a node delegations that no
// command could make: more name servers or addresses than allowed, or
// cuts inside one another. The restore fails saying which.
func TestSnapshot_DelegationRestoreRefusesWhatApplyWould(t *testing.T) {
	ns := func(n, addrs int) []record.NameServer {
		var out []record.NameServer
		for i := range n {
			s := record.NameServer{Name: fmt.Sprintf("ns%d.pm.example", i)}
			for j := range addrs {
				s.Addrs = append(s.Addrs, netip.AddrFrom4([4]byte{198, 51, 100, byte(j + 1)}))
			}
			out = append(out, s)
		}
		return out
	}
	cases := []struct {
		name string
		ds   []*record.Delegation
		want string
	}{
		{"one name server too many", []*record.Delegation{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), NS: ns(record.MaxNameServers+1, 1)}}, "9 name servers, at most 8"},
		{"one address too many", []*record.Delegation{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), NS: ns(1, record.MaxGlue+1)}}, "5 addresses, at most 4"},
		{"overlapping cuts", []*record.Delegation{{Prefix: netip.MustParsePrefix("192.0.0.0/16"), NS: ns(1, 0)}, {Prefix: netip.MustParsePrefix("192.0.2.0/24"), NS: ns(1, 0)}}, "overlaps the delegation of 192.0.0.0/16"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			tx := h.f.Index().Begin()
			for _, d := range c.ds {
				if err := tx.PutDelegation(d); err != nil {
					t.Fatal(err)
				}
			}
			tx.Commit()
			_, err := NewFSM(nil, nil).Restore(io.NopCloser(bytes.NewReader(persist(t, h.f))))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("restore: %v, want an error saying %q", err, c.want)
			}
		})
	}
}
