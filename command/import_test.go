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
	gs, err := DecodeImport(b)
	if err != nil {
		t.Fatal(err)
	}
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
		{"newer format", append([]byte{2}, good[1:]...)},
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
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := DecodeImport(b)
		if err != nil {
			if !errors.Is(err, ErrBadImport) {
				t.Fatalf("error %v is not ErrBadImport", err)
			}
			return
		}
		var w ImportWriter
		for _, g := range gs {
			for _, r := range g.Records {
				w.Add(g.Relay, r)
			}
		}
		again, _ := w.Encode()
		back, err := DecodeImport(again)
		if err != nil {
			t.Fatalf("re-encoded list does not decode: %v", err)
		}
		if n, m := records(gs), records(back); n != m {
			t.Fatalf("%d records became %d", n, m)
		}
	})
}

func records(gs []ImportGroup) int {
	n := 0
	for _, g := range gs {
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
