package command

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/wlns/wlns/command/wire"
)

// binarySamples is one command of each kind with a binary form.
func binarySamples(tb testing.TB) []*Envelope {
	return []*Envelope{
		mustNew(tb, PairPut, PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.4", By: "ops", Method: "api", Pinned: true}),
		mustNew(tb, PairDelete, PairBody{Sender: "example.net", Entity: 7}),
		mustNew(tb, VerpPut, VerpBody{Domain: "lists.example", Entity: 7, By: "ops", Method: "link"}),
		mustNew(tb, VerpDelete, VerpBody{Domain: "lists.example", IP: "2001:db8::1"}),
		mustNew(tb, EntityPut, EntityBody{Name: "umkc", Group: true, Prefixes: []string{"192.0.2.0/24", "2001:db8::/64"}, Pinned: true}),
		mustNew(tb, EntityPut, EntityBody{ID: 9, Prefixes: []string{"192.0.2.9"}, Registered: true, Contact: "ops@example.org", PTR: "mx.example.org"}),
		mustNew(tb, EntityDelete, EntityBody{ID: 9}),
		mustNew(tb, MembersAdd, MembersBody{Entity: 7, Prefixes: []string{"192.0.2.9"}}),
		mustNew(tb, MembersRemove, MembersBody{Entity: 7, Prefixes: []string{"192.0.2.9", "192.0.2.10"}}),
		mustNew(tb, Touch, TouchBody{Entities: []TouchEntity{{ID: 7, Self: true, Age: 3, Pairs: []TouchItem{{"dave@umkc.edu", 42}, {"example.net", 0}}},
			{ID: 9, Verps: []TouchItem{{"lists.example", 5}}}}}),
	}
}

// TestBinary_DecodesAsTheJSONForm: each single-write kind's binary entry
// decodes to the envelope and body its JSON entry decodes to.
func TestBinary_DecodesAsTheJSONForm(t *testing.T) {
	for _, e := range binarySamples(t) {
		e.ReqID, e.Time = "req-1", 1_700_000_000
		js, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		bin, ok := e.EncodeBinary()
		if !ok || bin[0] != BinaryMark || len(bin) >= len(js) {
			t.Fatalf("%s: binary form %v, %d bytes (JSON %d)", e.Type, ok, len(bin), len(js))
		}
		fromJSON, err1 := Decode(js)
		fromBin, err2 := Decode(bin)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: decoding: %v, %v", e.Type, err1, err2)
		}
		if fromBin.V != BinaryVersion || fromBin.Type != e.Type || fromBin.Time != e.Time || fromBin.ReqID != e.ReqID {
			t.Errorf("%s: binary envelope %+v", e.Type, fromBin)
		}
		k, _ := KindOf(e.Type)
		a, b := k.Body(), k.Body()
		if err := fromJSON.DecodeBody(a); err != nil {
			t.Fatal(err)
		}
		if err := fromBin.DecodeBody(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: binary body %+v, JSON body %+v", e.Type, b, a)
		}
		if again, err := fromBin.Encode(); err != nil || !bytes.Equal(bytes.Replace(again, []byte(`"v":7`), []byte(fmt.Sprintf(`"v":%d`, e.V)), 1), js) {
			t.Errorf("%s: JSON of the binary-decoded envelope %s, want %s (%v)", e.Type, again, js, err)
		}
	}
}

// TestBinary_NotUTF8StaysJSON: a text that is not valid UTF-8 (JSON would
// replace its bytes) keeps the command in the JSON form.
func TestBinary_NotUTF8StaysJSON(t *testing.T) {
	e := mustNew(t, PairPut, PairBody{Sender: "a@example.org", IP: "192.0.2.4", By: "op\xff"})
	if _, ok := e.EncodeBinary(); ok {
		t.Error("a body with invalid UTF-8 was written binary")
	}
	if _, ok := mustNew(t, TokenPut, TokenBody{Name: "t", Hash: "ab", Role: "admin"}).EncodeBinary(); ok {
		t.Error("a kind without a binary form was written binary")
	}
}

// TestBinary_GroupMixesForms: a Group of binary and JSON commands is
// binary and decodes to the commands in their order.
func TestBinary_GroupMixesForms(t *testing.T) {
	cmds := binarySamples(t)[:3]
	cmds = append(cmds, mustNew(t, ZoneSerial, ZoneSerialBody{}))
	raw := make([][]byte, len(cmds))
	for i, c := range cmds {
		if b, ok := c.EncodeBinary(); ok && i%2 == 0 {
			raw[i] = b
		} else {
			raw[i], _ = c.Encode()
		}
	}
	g, err := Decode(EncodeGroup(5, cmds, raw))
	if err != nil {
		t.Fatal(err)
	}
	var b GroupBody
	if err := g.DecodeBody(&b); err != nil || g.Type != Group || g.V != BinaryVersion || len(b.Commands) != len(cmds) {
		t.Fatalf("group %+v, %d commands, %v", g, len(b.Commands), err)
	}
	for i := range cmds {
		if b.Commands[i].Type != cmds[i].Type {
			t.Errorf("command %d is %s, want %s", i, b.Commands[i].Type, cmds[i].Type)
		}
	}
}

// TestBinary_MalformedEntriesAreRefused: damaged binary entries are
// errors, never panics or a body read past its end.
func TestBinary_MalformedEntriesAreRefused(t *testing.T) {
	good, _ := binarySamples(t)[0].EncodeBinary()
	nested := encodeBinaryGroup(1, []*Envelope{{V: 7}}, [][]byte{encodeBinaryGroup(1, nil, nil)})
	cases := map[string][]byte{
		"mark only":        {BinaryMark},
		"truncated":        good[:len(good)-2],
		"trailing byte":    append(append([]byte{}, good...), 0),
		"unknown flag":     append(append([]byte{}, good[:len(good)-1]...), 0x80),
		"version 6":        append([]byte{BinaryMark, 6}, good[2:]...),
		"newer version":    append([]byte{BinaryMark, Version + 1}, good[2:]...),
		"no binary form":   {BinaryMark, 7, 9, 't', 'o', 'k', 'e', 'n', '.', 'p', 'u', 't', 0, 0},
		"huge count":       {BinaryMark, 7, 5, 'g', 'r', 'o', 'u', 'p', 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"group in a group": nested,
	}
	for name, b := range cases {
		e, err := Decode(b)
		if err == nil {
			t.Errorf("%s: decoded %+v", name, e)
		}
		if name == "newer version" && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

// FuzzDecodeBinary: whatever bytes follow the mark, Decode never panics,
// and what it accepts encodes again to an entry that decodes the same.
func FuzzDecodeBinary(f *testing.F) {
	for _, e := range binarySamples(f) {
		b, _ := e.EncodeBinary()
		f.Add(b)
	}
	cmds := binarySamples(f)
	raw := make([][]byte, len(cmds))
	for i, c := range cmds {
		raw[i], _ = c.EncodeBinary()
	}
	f.Add(EncodeGroup(1, cmds, raw))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != BinaryMark {
			return
		}
		e, err := Decode(b)
		if err != nil {
			return
		}
		if e.Type == Group {
			var g GroupBody
			if err := e.DecodeBody(&g); err != nil {
				t.Fatal(err)
			}
			return
		}
		k, _ := KindOf(e.Type)
		body := k.Body()
		if err := e.DecodeBody(body); err != nil {
			t.Fatal(err)
		}
		again, ok := e.EncodeBinary()
		if !ok {
			t.Fatalf("%s decoded but has no binary form (a text that is not UTF-8?): %+v", e.Type, body)
		}
		js, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		fromJSON, err := Decode(js)
		viaJSON := k.Body()
		if err != nil || fromJSON.DecodeBody(viaJSON) != nil || !reflect.DeepEqual(body, viaJSON) {
			t.Fatalf("body %+v reads as %+v in its JSON form (%v)", body, viaJSON, err)
		}
		e2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		body2 := k.Body()
		if err := e2.DecodeBody(body2); err != nil || !reflect.DeepEqual(body, body2) {
			t.Fatalf("body %+v decodes again as %+v (%v)", body, body2, err)
		}
	})
}

// TestBinary_RefusesTextsThatAreNotUTF8: a binary entry holds only texts
// its JSON form says the same (JSON would read bytes that are not UTF-8 as
// U+FFFD, so the leader writes such a command as JSON); one that holds
// other bytes is damaged, also inside a group.
func TestBinary_RefusesTextsThatAreNotUTF8(t *testing.T) {
	var w wire.Writer
	appendHeader(&w, BinaryVersion, PairPut, 1_700_000_000, "")
	pairBinary.Append(&w, PairBody{Sender: "a\xff@b.example", IP: "192.0.2.1"})
	bad := w.B
	if _, err := Decode(bad); !errors.Is(err, ErrBadBinary) {
		t.Errorf("a pair.put whose sender is not UTF-8 decoded: %v", err)
	}
	good, _ := binarySamples(t)[0].EncodeBinary()
	g := EncodeGroup(1, []*Envelope{{}, {}}, [][]byte{good, bad})
	if _, err := Decode(g); err == nil {
		t.Error("a group holding it decoded")
	}
}
