package fsm

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
)

// importScene is a state an import meets: a group with a CIDR, a lone
// relay, and a pair the import refreshes (with other By and Method).
func importScene(t *testing.T) (*fsmHarness, uint64) {
	h := newHarness(t)
	g := h.ok(command.EntityPut, command.EntityBody{Name: "g", Group: true, Prefixes: []string{"192.0.2.0/24"}})
	h.ok(command.PairPut, command.PairBody{Sender: "old@example.org", Entity: g.ID, By: "alice", Method: "link"})
	h.now += 100
	return h, g.ID
}

// importCase is one record of an import, as the API would write it.
type importCase struct {
	relay command.ImportRelay
	rec   command.ImportRecord
}

func (c importCase) command(tb testing.TB) command.Envelope {
	var ip string
	if c.relay.IP.IsValid() {
		ip = c.relay.IP.String()
	}
	if c.rec.Verp {
		return *env(tb, command.VerpPut, 0, "", command.VerpBody{Domain: c.rec.Text, Entity: c.relay.Entity, IP: ip, By: "ops", Method: "import", Pinned: c.rec.Pinned})
	}
	return *env(tb, command.PairPut, 0, "", command.PairBody{Sender: c.rec.Text, Entity: c.relay.Entity, IP: ip, By: "ops", Method: "import", Pinned: c.rec.Pinned})
}

// importBoth returns cases as one Import and as the Batch of PairPut and
// VerpPut commands of its records in list order.
func importBoth(tb testing.TB, now int64, req string, cases []importCase) (imp, batch *command.Envelope, order []int) {
	var w command.ImportWriter
	for _, c := range cases {
		w.Add(c.relay, c.rec)
	}
	recs, order := w.Encode()
	var b command.BatchBody
	for _, o := range order {
		b.Commands = append(b.Commands, cases[o].command(tb))
	}
	return env(tb, command.Import, now, req, command.ImportBody{By: "ops", Method: "import", Records: recs}),
		env(tb, command.Batch, now, req, b), order
}

func TestImport_AppliesAsTheBatchOfItsPairAndVerpPuts(t *testing.T) {
	a, g := importScene(t)
	b, _ := importScene(t)
	ip := func(s string) command.ImportRelay { return command.ImportRelay{IP: netip.MustParseAddr(s)} }
	cases := []importCase{
		{ip("198.51.100.7"), command.ImportRecord{Text: "new@example.net"}},            // creates a lone relay
		{ip("192.0.2.9"), command.ImportRecord{Text: "old@example.org", Pinned: true}}, // refreshes, keeps By/Method
		{ip("2001:db8::5"), command.ImportRecord{Text: "example.com"}},                 // domain pair, new IPv6 relay
		{command.ImportRelay{Entity: g}, command.ImportRecord{Text: "lists.example.org", Verp: true}},
		{ip("198.51.100.7"), command.ImportRecord{Text: "twice@example.net"}},
		{ip("198.51.100.7"), command.ImportRecord{Text: "twice@example.net", Pinned: true}}, // the last one's pin wins
		{ip("198.51.100.8"), command.ImportRecord{Text: "other@example.net"}},
	}
	imp, batch, _ := importBoth(t, a.now, "req-1", cases)
	ra, rb := a.apply(imp)[0], b.apply(batch)[0]
	if ra.Err != nil || rb.Err != nil {
		t.Fatalf("import: %v, batch: %v", ra.Err, rb.Err)
	}
	if sa, sb := persist(t, a.f), persist(t, b.f); !bytes.Equal(sa, sb) {
		t.Errorf("the import's state (%d bytes) differs from the batch's (%d bytes)", len(sa), len(sb))
	}
	p := a.view().Pair(g, []byte("old@example.org"))
	if p == nil || p.By != "alice" || p.Method != "link" || !p.Pinned || p.Created != t0 || p.Updated != t0+100 {
		t.Errorf("refreshed pair %+v: want By alice, Method link, pinned, created %d, updated %d", p, t0, t0+100)
	}
	if r := a.apply(imp)[0]; !r.Duplicate {
		t.Errorf("the same import again: %+v, want a duplicate", r)
	}
}

func TestImport_RejectionAppliesNothingAndNamesTheRecord(t *testing.T) {
	h, g := importScene(t)
	before := h.view().Counts()
	cases := []importCase{
		{command.ImportRelay{IP: netip.MustParseAddr("198.51.100.7")}, command.ImportRecord{Text: "a@example.net"}},
		{command.ImportRelay{Entity: g}, command.ImportRecord{Text: "b@example.net"}},
		{command.ImportRelay{Entity: 999}, command.ImportRecord{Text: "c@example.net"}},
	}
	imp, _, order := importBoth(t, h.now, "", cases)
	r := h.apply(imp)[0]
	if r.Err == nil || r.Err.Code != command.NotFound {
		t.Fatalf("import naming entity 999: %+v, want not_found", r)
	}
	if order[r.Err.Index] != 2 {
		t.Errorf("rejection index %d is record %d of the input, want 2 (order %v)", r.Err.Index, order[r.Err.Index], order)
	}
	if n := h.view().Counts(); n != before || h.view().EntityOf(netip.MustParseAddr("198.51.100.7")) != nil {
		t.Errorf("a rejected import changed the state: %+v, was %+v", n, before)
	}
}

// TestImport_RegistrationsApplyAsTheirEntityPuts: an Import registering
// relays (a new address, the lone entity a pair made, an IPv6 relay, one
// pinned) before its records leaves the state of the Batch of those
// EntityPuts followed by the records' PairPuts; a registration the state
// machine refuses (a new entity for an address that has one) refuses the whole Import
// and is named by its position.
func TestImport_RegistrationsApplyAsTheirEntityPuts(t *testing.T) {
	a, _ := importScene(t)
	b, _ := importScene(t)
	lone := a.ok(command.PairPut, command.PairBody{Sender: "x@example.net", IP: "198.51.100.20"})
	b.ok(command.PairPut, command.PairBody{Sender: "x@example.net", IP: "198.51.100.20"})
	regs := []command.ImportRegistration{
		{Addr: netip.MustParseAddr("198.51.100.7"), Contact: "pm@example.net", PTR: "mx.example.net"},
		{ID: lone.ID, Addr: netip.MustParseAddr("198.51.100.20"), Contact: "pm@example.net", Pinned: true},
		{Addr: netip.MustParseAddr("2001:db8::7"), Contact: "v6@example.net"},
	}
	cases := []importCase{
		{command.ImportRelay{IP: netip.MustParseAddr("198.51.100.7")}, command.ImportRecord{Text: "a@example.org"}},
		{command.ImportRelay{IP: netip.MustParseAddr("198.51.100.20")}, command.ImportRecord{Text: "b@example.org"}},
	}
	var w command.ImportWriter
	var batch command.BatchBody
	for _, r := range regs {
		w.AddRegistration(r)
		batch.Commands = append(batch.Commands, *env(t, command.EntityPut, 0, "", r.Body()))
	}
	for _, c := range cases {
		w.Add(c.relay, c.rec)
		batch.Commands = append(batch.Commands, c.command(t))
	}
	recs, _ := w.Encode()
	imp := env(t, command.Import, a.now, "r", command.ImportBody{By: "ops", Method: "import", Records: recs})
	if ra, rb := a.apply(imp)[0], b.apply(env(t, command.Batch, a.now, "r", batch))[0]; ra.Err != nil || rb.Err != nil {
		t.Fatalf("import: %v, batch: %v", ra.Err, rb.Err)
	}
	if sa, sb := persist(t, a.f), persist(t, b.f); !bytes.Equal(sa, sb) {
		t.Errorf("the import's state (%d bytes) differs from the batch's (%d bytes)", len(sa), len(sb))
	}
	if e := a.view().EntityOf(netip.MustParseAddr("198.51.100.20")); e == nil || e.ID != lone.ID || !e.Registered || !e.Pinned {
		t.Errorf("the pair's lone entity after its registration: %+v", e)
	}

	var bad command.ImportWriter
	bad.AddRegistration(command.ImportRegistration{Addr: netip.MustParseAddr("198.51.100.30"), Contact: "pm@example.net"})
	bad.AddRegistration(command.ImportRegistration{Addr: netip.MustParseAddr("198.51.100.7"), Contact: "pm@example.net"}) // has an entity
	bad.Add(cases[0].relay, command.ImportRecord{Text: "c@example.org"})
	recs, order := bad.Encode()
	before := a.view().Counts()
	r := a.apply(env(t, command.Import, a.now, "r2", command.ImportBody{By: "ops", Method: "import", Records: recs}))[0]
	if r.Err == nil || r.Err.Code != command.Conflict || order[r.Err.Index] != 1 {
		t.Fatalf("a new entity for a registered address: %+v, want conflict naming registration 1", r.Err)
	}
	if a.view().Counts() != before || a.view().EntityOf(netip.MustParseAddr("198.51.100.30")) != nil {
		t.Error("a refused import changed the state")
	}
}

// TestImport_LongSenderRejectionNamesItsRecord: a sender over the limit
// in the log (past the proposal check) is refused by the state machine,
// which names that record, not the first of its relay's group.
func TestImport_LongSenderRejectionNamesItsRecord(t *testing.T) {
	h, _ := importScene(t)
	relay := command.ImportRelay{IP: netip.MustParseAddr("198.51.100.9")}
	cases := []importCase{
		{relay, command.ImportRecord{Text: "a@example.net"}},
		{relay, command.ImportRecord{Text: "b@example.net"}},
		{relay, command.ImportRecord{Text: strings.Repeat("c", maxSender) + "@example.net"}},
	}
	imp, _, order := importBoth(t, h.now, "", cases)
	r := h.apply(imp)[0]
	if r.Err == nil || r.Err.Code != command.Invalid {
		t.Fatalf("import with a long sender: %+v, want invalid", r)
	}
	if order[r.Err.Index] != 2 {
		t.Errorf("rejection index %d is record %d of the input, want 2 (%s)", r.Err.Index, order[r.Err.Index], r.Err.Message)
	}
}

func TestCheckProposal_RefusesAnImportItWouldStoreUnnormalised(t *testing.T) {
	v4in6 := command.ImportRelay{IP: netip.MustParseAddr("::ffff:192.0.2.1")}
	lone := command.ImportRelay{IP: netip.MustParseAddr("192.0.2.1")}
	for _, c := range []struct {
		name string
		c    importCase
	}{
		{"upper-case sender", importCase{lone, command.ImportRecord{Text: "Bob@Example.org"}}},
		{"not a sender", importCase{lone, command.ImportRecord{Text: "bob@"}}},
		{"verp domain with a dot at the end", importCase{lone, command.ImportRecord{Text: "example.org.", Verp: true}}},
		{"IPv4-mapped relay", importCase{v4in6, command.ImportRecord{Text: "bob@example.org"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			imp, _, _ := importBoth(t, t0, "", []importCase{c.c})
			if err := CheckProposal(imp); err == nil {
				t.Error("CheckProposal accepted it")
			}
		})
	}
}
