package command

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"
)

// TestDecodeImportBody_ReadsWhatNewWritesWithoutEncodingJSON: the body of
// an Import as New writes it takes the fast path and decodes to the body.
func TestDecodeImportBody_ReadsWhatNewWritesWithoutEncodingJSON(t *testing.T) {
	for _, body := range []ImportBody{
		{By: "admin", Method: "import", Records: []byte{1, 1, relayByID, 3, 1, 0, 1, 'a'}},
		{Records: bytes.Repeat([]byte{0xff, 0, 7}, 1000)},
	} {
		e, err := New(Import, 1, "r", body)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fastImportBody(e.Body)
		if !ok || got.By != body.By || got.Method != body.Method || !bytes.Equal(got.Records, body.Records) {
			t.Errorf("fast path of %s: %+v, %v", e.Body, got, ok)
		}
	}
}

// FuzzDecodeImportBody: whatever the bytes, the fast path reads a body
// only where encoding/json reads the same one.
func FuzzDecodeImportBody(f *testing.F) {
	for _, s := range []string{`{"by":"a","method":"import","records":"AQEAAwEAAWE="}`, `{"records":"AQ=="}`,
		`{"records":"AQ==","records":"AQ=="}`, `{"Records":"AQ=="}`, `{"records":"AR=="}`, `{"by":"\u0061","records":"AQ=="}`,
		`{"records":null}`, `{"records":"AQ==","x":1}`, `{"records":"AQ==",}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, ok := fastImportBody(raw)
		if !ok {
			return
		}
		var slow ImportBody
		if err := json.Unmarshal(raw, &slow); err != nil {
			t.Fatalf("fast path read %q, encoding/json refuses it: %v", raw, err)
		}
		if fast.By != slow.By || fast.Method != slow.Method || !bytes.Equal(fast.Records, slow.Records) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", raw, fast, slow)
		}
	})
}

// sampleImport is an Import with registrations, records by address and by
// entity, as the API builds it.
func sampleImport(tb testing.TB) *Envelope {
	var w ImportWriter
	w.AddRegistration(ImportRegistration{Addr: netip.MustParseAddr("192.0.2.1"), Contact: "pm@example.org", PTR: "mx.example.org"})
	w.AddRegistration(ImportRegistration{ID: 9, Addr: netip.MustParseAddr("2001:db8::1"), Pinned: true})
	for i := range 50 {
		w.Add(ImportRelay{IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 7)})}, ImportRecord{Text: "user" + strconv.Itoa(i) + "@example.org", Pinned: i%3 == 0})
	}
	w.Add(ImportRelay{Entity: 9}, ImportRecord{Text: "lists.example.org", Verp: true})
	recs, _ := w.Encode()
	e, err := New(Import, 1_700_000_000, "imp/1", ImportBody{By: "admin", Method: "import", Records: recs})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestImport_BinaryEntryDecodesAsTheJSONEntry: an Import's binary entry
// carries the record list as it is (no base64: smaller than the JSON
// entry by at least its quarter) and decodes to the envelope and body the
// JSON entry decodes to.
func TestImport_BinaryEntryDecodesAsTheJSONEntry(t *testing.T) {
	e := sampleImport(t)
	js, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	bin, ok := e.EncodeBinary()
	if !ok || bin[0] != BinaryMark {
		t.Fatalf("no binary form (%v)", ok)
	}
	b0, _ := ImportBodyOf(e)
	if len(bin) > len(js)-len(b0.Records)/4 {
		t.Errorf("binary entry %d bytes, JSON %d: the record list (%d bytes) is not carried as it is", len(bin), len(js), len(b0.Records))
	}
	fromJSON, err1 := Decode(js)
	fromBin, err2 := Decode(bin)
	if err1 != nil || err2 != nil {
		t.Fatalf("decoding: %v, %v", err1, err2)
	}
	if fromBin.V != BinaryVersion || fromJSON.V != 5 || fromBin.Type != Import || fromBin.Time != e.Time || fromBin.ReqID != e.ReqID {
		t.Errorf("envelopes: binary %+v, JSON %+v", fromBin, fromJSON)
	}
	a, err1 := ImportBodyOf(fromJSON)
	b, err2 := ImportBodyOf(fromBin)
	if err1 != nil || err2 != nil || a.By != b.By || a.Method != b.Method || !bytes.Equal(a.Records, b.Records) {
		t.Errorf("bodies: JSON %+v (%v), binary %+v (%v)", a, err1, b, err2)
	}
	var viaJSON ImportBody
	if err := fromBin.DecodeBody(&viaJSON); err != nil || !bytes.Equal(viaJSON.Records, b.Records) {
		t.Errorf("DecodeBody of the binary entry: %+v, %v", viaJSON, err)
	}
}

// FuzzDecodeImportEntry: whatever the bytes of a binary Import entry,
// decoding it and its record list never panics, and a list that decodes
// holds at least one record and only texts of at most MaxImportText.
func FuzzDecodeImportEntry(f *testing.F) {
	bin, _ := sampleImport(f).EncodeBinary()
	f.Add(bin)
	f.Add(bin[:len(bin)/2])
	f.Add(append([]byte{}, bin[:20]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != BinaryMark {
			return
		}
		e, err := Decode(b)
		if err != nil || e.Type != Import {
			return
		}
		body, err := ImportBodyOf(e)
		if err != nil {
			t.Fatalf("a decoded Import has no body: %v", err)
		}
		l, err := DecodeImport(body.Records)
		if err != nil {
			return
		}
		n := len(l.Registrations)
		for _, g := range l.Groups {
			n += len(g.Records)
			for _, r := range g.Records {
				if len(r.Text) == 0 || len(r.Text) > MaxImportText {
					t.Fatalf("record text of %d bytes", len(r.Text))
				}
			}
		}
		if n == 0 {
			t.Fatal("a list without records decoded")
		}
	})
}
