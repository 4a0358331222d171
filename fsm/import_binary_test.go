package fsm

import (
	"bytes"
	"os"
	"testing"

	"github.com/wlns/wlns/command"
)

// TestImport_BinaryEntriesApplyAsTheirJSONEntries: the old log's entries
// (testdata/import-v5.log, main's JSON encoder) written again as binary
// entries, as a leader writes them once every member reads them, apply
// to main's state and to the snapshot bytes of the JSON entries.
func TestImport_BinaryEntriesApplyAsTheirJSONEntries(t *testing.T) {
	old := readGoldenLog(t, "import-v5.log")
	bin := make([][]byte, len(old))
	imports := 0
	for i, data := range old {
		e, err := command.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := e.EncodeBinary()
		if !ok {
			t.Fatalf("entry %d (%s) has no binary form", i, e.Type)
		}
		if e.Type == command.Import {
			imports++
			if len(b) >= len(data)*4/5 {
				t.Errorf("import entry %d: binary %d bytes, JSON %d", i, len(b), len(data))
			}
		}
		bin[i] = b
	}
	want, err := os.ReadFile("testdata/import-v5.state")
	if err != nil {
		t.Fatal(err)
	}
	fj, fromJSON := applyGolden(t, old)
	fb, fromBin := applyGolden(t, bin)
	switch {
	case imports == 0:
		t.Fatal("no import entries in the log")
	case !bytes.Equal(fromBin, want):
		t.Errorf("the binary entries' state differs from main's:\n%s", firstDiff(fromBin, want))
	case !bytes.Equal(fromJSON, want):
		t.Errorf("the JSON entries' state differs from main's:\n%s", firstDiff(fromJSON, want))
	case !bytes.Equal(persist(t, fj), persist(t, fb)):
		t.Error("the snapshots of the JSON and the binary entries differ")
	}
}

// TestImport_DamagedBinaryRecordListIsRefused: a binary Import whose
// envelope decodes but whose record list does not is a rejection (the
// state unchanged), not a stop.
func TestImport_DamagedBinaryRecordListIsRefused(t *testing.T) {
	e := env(t, command.Import, t0, "x", command.ImportBody{By: "ops", Records: []byte{1, 5, 0}})
	b, ok := e.EncodeBinary()
	if !ok {
		t.Fatal("no binary form")
	}
	h, _ := importScene(t)
	f := h.f
	before := f.Index().Load().Counts()
	r := f.ApplyEntries([]Entry{{Index: 100, Term: 1, Command: true, Data: b}})[0].(command.Result)
	if r.Err == nil || r.Err.Code != command.Invalid {
		t.Fatalf("damaged record list: %+v, want invalid", r)
	}
	if after := f.Index().Load().Counts(); after != before {
		t.Error("a refused import changed the state")
	}
}
