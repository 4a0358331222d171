package fsm

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/wlns/wlns/command"
)

// registerScene is a state a registration meets: a group over
// 192.0.2.0/24, the lone unregistered entity a pair made for 198.51.100.20
// and a registered relay 198.51.100.7. It returns their IDs.
func registerScene(tb testing.TB) (*fsmHarness, []uint64) {
	h := newHarness(tb)
	g := h.ok(command.EntityPut, command.EntityBody{Name: "g", Group: true, Prefixes: []string{"192.0.2.0/24"}})
	lone := h.ok(command.PairPut, command.PairBody{Sender: "x@example.net", IP: "198.51.100.20"})
	reg := h.ok(command.EntityPut, command.EntityBody{Prefixes: []string{"198.51.100.7"}, Registered: true, Contact: "pm@example.net"})
	h.now += 100
	return h, []uint64{g.ID, lone.ID, reg.ID}
}

// Registration ingredients the fuzzer picks from: addresses (new, of the
// scene's entities, inside the group, IPv4-mapped, IPv6), contacts and
// PTRs (untrimmed, upper case, invalid).
var (
	regAddrs = []string{"198.51.100.30", "198.51.100.20", "198.51.100.7", "192.0.2.9", "::ffff:198.51.100.31",
		"::ffff:198.51.100.20", "2001:db8::7", "0.0.0.0", "255.255.255.255"}
	regContacts = []string{"", "pm@example.net", "  pm@example.net ", "Postmaster <pm@example.net>"}
	regPTRs     = []string{"", "mx.example.net", " MX.Example.NET. ", "bad..ptr", "-x.example", "  "}
)

// FuzzImport_RegistrationAppliesAsItsEntityPut: an Import of registrations
// (the direct path, register) leaves the state, the result or the
// rejection that the Batch of the EntityPuts of their bodies does.
func FuzzImport_RegistrationAppliesAsItsEntityPut(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 0, 0})
	f.Add([]byte{1, 1, 2, 2, 1, 1, 4, 0, 3, 3, 0})
	f.Add([]byte{2, 2, 1, 0, 1, 0, 5, 3, 0, 0, 0})
	f.Add([]byte{6, 0, 0, 4, 0, 1, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ids := registerScene(t)
		o, _ := registerScene(t)
		var w command.ImportWriter
		var batch command.BatchBody
		for len(b) >= 5 && len(batch.Commands) < 6 {
			id := uint64(0)
			switch b[1] % 5 {
			case 1, 2, 3:
				id = ids[b[1]%5-1]
			case 4:
				id = 999
			}
			r := command.ImportRegistration{ID: id, Addr: netip.MustParseAddr(regAddrs[int(b[0])%len(regAddrs)]),
				Contact: regContacts[int(b[2])%len(regContacts)], PTR: regPTRs[int(b[3])%len(regPTRs)], Pinned: b[4]&1 != 0}
			w.AddRegistration(r)
			batch.Commands = append(batch.Commands, *env(t, command.EntityPut, 0, "", r.Body()))
			b = b[5:]
		}
		if len(batch.Commands) == 0 {
			return
		}
		recs, _ := w.Encode()
		ra := a.apply(env(t, command.Import, a.now, "r", command.ImportBody{By: "ops", Method: "import", Records: recs}))[0]
		ro := o.apply(env(t, command.Batch, o.now, "r", batch))[0]
		switch {
		case (ra.Err == nil) != (ro.Err == nil):
			t.Fatalf("import: %v, the batch of entity.puts: %v", ra.Err, ro.Err)
		case ra.Err != nil && (ra.Err.Code != ro.Err.Code || ra.Err.Index != ro.Err.Index):
			t.Fatalf("import refused with %s at %d (%s), the batch with %s at %d (%s)",
				ra.Err.Code, ra.Err.Index, ra.Err.Message, ro.Err.Code, ro.Err.Index, ro.Err.Message)
		}
		if sa, so := persist(t, a.f), persist(t, o.f); !bytes.Equal(sa, so) {
			t.Fatalf("the import's state (%d bytes) differs from the batch's (%d bytes)", len(sa), len(so))
		}
	})
}
