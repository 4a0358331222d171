package command

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func TestImportWriter_GroupsByRelayAndKeepsOrderWithin(t *testing.T) {
	v4 := ImportRelay{IP: netip.MustParseAddr("192.0.2.7")}
	v6 := ImportRelay{IP: netip.MustParseAddr("2001:db8::1")}
	id := ImportRelay{Entity: 42}
	var w ImportWriter
	w.Add(v6, ImportRecord{Text: "a@example.org"})                 // 0
	w.Add(v4, ImportRecord{Text: "example.net", Pinned: true})     // 1
	w.Add(id, ImportRecord{Text: "lists.example.com", Verp: true}) // 2
	w.Add(v6, ImportRecord{Text: "b@example.org"})                 // 3
	w.Add(v4, ImportRecord{Text: "c@example.net", Verp: false})    // 4
	w.Add(id, ImportRecord{Text: "d@example.com", Pinned: true})   // 5
	b, order := w.Encode()
	l, err := DecodeImport(b)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != importFormat || l.Registrations != nil {
		t.Errorf("a list without registrations: format %d, registrations %v", b[0], l.Registrations)
	}
	gs := l.Groups
	want := []ImportGroup{
		{Relay: v4, Records: []ImportRecord{{Text: "example.net", Pinned: true}, {Text: "c@example.net"}}},
		{Relay: v6, Records: []ImportRecord{{Text: "a@example.org"}, {Text: "b@example.org"}}},
		{Relay: id, Records: []ImportRecord{{Text: "lists.example.com", Verp: true}, {Text: "d@example.com", Pinned: true}}},
	}
	// Entity 0 sorts first: address groups, then ID groups.
	if !reflect.DeepEqual(gs, want) {
		t.Errorf("decoded %+v\nwant    %+v", gs, want)
	}
	if w := []int{1, 4, 0, 3, 2, 5}; !reflect.DeepEqual(order, w) {
		t.Errorf("order %v, want %v", order, w)
	}
}

func TestDecodeImport_RefusesMalformedLists(t *testing.T) {
	var w ImportWriter
	w.Add(ImportRelay{Entity: 3}, ImportRecord{Text: "a@example.org"})
	good, _ := w.Encode()
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"newer format", append([]byte{3}, good[1:]...)},
		{"registration without text lengths", []byte{2, 1, relayByIPv4, 1, 2, 3, 4, 0, 0}},
		{"registration by ID", []byte{2, 1, relayByID, 5, 0, 0, 0, 0, 0}},
		{"registration flags", []byte{2, 1, relayByIPv4, 1, 2, 3, 4, 0, 2, 0, 0, 0}},
		{"no groups", []byte{1, 0}},
		{"group without records", []byte{1, 1, relayByID, 3, 0}},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"entity 0", []byte{1, 1, relayByID, 0, 1, 0, 1, 'a'}},
		{"unknown relay kind", []byte{1, 1, 9, 1, 0, 1, 'a'}},
		{"truncated address", []byte{1, 1, relayByIPv6, 1, 2, 3}},
		{"unknown flag", []byte{1, 1, relayByID, 3, 1, 4, 1, 'a'}},
		{"empty text", []byte{1, 1, relayByID, 3, 1, 0, 0}},
		{"text past the end", []byte{1, 1, relayByID, 3, 1, 0, 9, 'a'}},
		{"count past the list", []byte{1, 0xff, 0xff, 0x03}},
		{"varint overflow", []byte{1, 1, relayByID, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := DecodeImport(c.b); !errors.Is(err, ErrBadImport) {
				t.Errorf("DecodeImport(%v) = %v, want ErrBadImport", c.b, err)
			}
		})
	}
	if _, err := DecodeImport(good); err != nil {
		t.Errorf("the well-formed list: %v", err)
	}
}

// TestImportWriter_RegistrationsComeFirstInTheirOrder: a list with relay
// registrations is format 2; they decode first, in the order added, and
// the order names each one's Add call before the records'.
func TestImportWriter_RegistrationsComeFirstInTheirOrder(t *testing.T) {
	a := ImportRegistration{Addr: netip.MustParseAddr("2001:db8::5"), Contact: "pm@example.org", PTR: "mx.example.org", Pinned: true}
	b := ImportRegistration{ID: 17, Addr: netip.MustParseAddr("192.0.2.9"), Contact: "x@example.net"}
	var w ImportWriter
	w.AddRegistration(a)                                                                          // 0
	w.AddRegistration(b)                                                                          // 1
	w.Add(ImportRelay{IP: netip.MustParseAddr("192.0.2.9")}, ImportRecord{Text: "s@example.org"}) // 2
	w.Add(ImportRelay{Entity: 3}, ImportRecord{Text: "lists.example.org", Verp: true})            // 3
	w.Add(ImportRelay{IP: netip.MustParseAddr("192.0.2.9")}, ImportRecord{Text: "t@example.org"}) // 4
	enc, order := w.Encode()
	l, err := DecodeImport(enc)
	if err != nil {
		t.Fatal(err)
	}
	if enc[0] != importFormatReg || !reflect.DeepEqual(l.Registrations, []ImportRegistration{a, b}) {
		t.Errorf("format %d, registrations %+v", enc[0], l.Registrations)
	}
	if len(l.Groups) != 2 || len(l.Groups[0].Records) != 2 {
		t.Errorf("groups %+v", l.Groups)
	}
	if want := []int{0, 1, 2, 4, 3}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestMinVersion_ImportIsVersion5(t *testing.T) {
	e, err := New(Import, 1, "", ImportBody{Records: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if e.V != 5 {
		t.Errorf("V = %d, want 5", e.V)
	}
}

// FuzzDecodeImport: any bytes decode or fail with ErrBadImport, and the
// records of a list that decodes, written again, decode to as many.
func FuzzDecodeImport(f *testing.F) {
	var w ImportWriter
	w.Add(ImportRelay{Entity: 3}, ImportRecord{Text: "a@example.org", Pinned: true})
	w.Add(ImportRelay{IP: netip.MustParseAddr("2001:db8::1")}, ImportRecord{Text: "example.org", Verp: true})
	good, _ := w.Encode()
	f.Add(good)
	f.Add([]byte{1, 1, relayByIPv4, 1, 2, 3, 4, 1, 0, 1, 'a'})
	w.AddRegistration(ImportRegistration{Addr: netip.MustParseAddr("192.0.2.1"), Contact: "a@example.org", PTR: "mx.example.org"})
	reg, _ := w.Encode()
	f.Add(reg)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeImport(b)
		if err != nil {
			if !errors.Is(err, ErrBadImport) {
				t.Fatalf("error %v is not ErrBadImport", err)
			}
			return
		}
		var w ImportWriter
		for _, r := range l.Registrations {
			w.AddRegistration(r)
		}
		for _, g := range l.Groups {
			for _, r := range g.Records {
				w.Add(g.Relay, r)
			}
		}
		again, _ := w.Encode()
		back, err := DecodeImport(again)
		if err != nil {
			t.Fatalf("re-encoded list does not decode: %v", err)
		}
		if n, m := records(l), records(back); n != m {
			t.Fatalf("%d records became %d", n, m)
		}
	})
}

func records(l *ImportList) int {
	n := len(l.Registrations)
	for _, g := range l.Groups {
		n += len(g.Records)
	}
	return n
}

func TestMinVersion_GroupIsAtLeast5AndItsHighestCommand(t *testing.T) {
	pair, err := New(PairPut, 1, "", PairBody{Sender: "a@example.org", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Group, 1, "", GroupBody{Commands: []Envelope{*pair, *pair}})
	if err != nil {
		t.Fatal(err)
	}
	if g.V != 5 {
		t.Errorf("group of version-1 commands: V = %d, want 5", g.V)
	}
	newer := *pair
	newer.V = 7
	if v := MinVersion(Group, mustJSON(t, GroupBody{Commands: []Envelope{*pair, newer}})); v != 7 {
		t.Errorf("group with a version-7 command: %d, want 7", v)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
