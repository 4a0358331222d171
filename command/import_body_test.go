package command

import (
	"bytes"
	"encoding/json"
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
