package fsm

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// updateImportGolden rewrites testdata/import-v5.log and .state from this
// build (run it with the build whose results are the reference: the
// files were made by main e6c60c0, before binary imports).
var updateImportGolden = flag.Bool("update-import-golden", false, "rewrite testdata/import-v5.{log,state}")

// goldenImports is a log of Import entries as the API writes them: relay
// registrations (new addresses, the lone entity a pair made, IPv6),
// pairs through new relays, a group, an entity ID, domain pairs, a text
// given twice, VERP sources, and one import the state machine refuses.
func goldenImports(tb testing.TB) []*command.Envelope {
	h := newHarness(tb)
	out := []*command.Envelope{
		env(tb, command.EntityPut, h.now, "g", command.EntityBody{Name: "g", Group: true, Prefixes: []string{"192.0.2.0/24"}, Registered: true}),
	}
	imp := func(req string, fill func(w *command.ImportWriter)) {
		var w command.ImportWriter
		fill(&w)
		recs, _ := w.Encode()
		h.now += 10
		out = append(out, env(tb, command.Import, h.now, req, command.ImportBody{By: "ops", Method: "import", Records: recs}))
	}
	ip := func(i int) command.ImportRelay {
		return command.ImportRelay{IP: netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})}
	}
	imp("1", func(w *command.ImportWriter) {
		for i := range 300 {
			w.Add(ip(i%150), command.ImportRecord{Text: fmt.Sprintf("user%d@d%d.example", i, i%7), Pinned: i%11 == 0})
		}
		w.Add(command.ImportRelay{Entity: 1}, command.ImportRecord{Text: "d3.example"})
		w.Add(command.ImportRelay{IP: netip.MustParseAddr("192.0.2.77")}, command.ImportRecord{Text: "lists.d1.example", Verp: true})
	})
	imp("2", func(w *command.ImportWriter) {
		for i := 100; i < 250; i++ { // 100–149 are the lone entities the pairs made
			r := command.ImportRegistration{Addr: ip(i).IP, Contact: "pm@d.example", PTR: fmt.Sprintf("mx%d.d.example", i), Pinned: i%2 == 0}
			if i < 150 {
				r.ID = uint64(2 + i) // entity IDs in the order import 1's groups resolved
			}
			w.AddRegistration(r)
		}
		w.AddRegistration(command.ImportRegistration{Addr: netip.MustParseAddr("2001:db8::25"), Contact: "v6@d.example"})
		for i := range 200 {
			w.Add(ip(i+100), command.ImportRecord{Text: fmt.Sprintf("user%d@d%d.example", i, i%5)})
			w.Add(ip(i+100), command.ImportRecord{Text: fmt.Sprintf("lists.d%d.example", i%3), Verp: i%4 == 0})
		}
		w.Add(ip(120), command.ImportRecord{Text: "user20@d0.example", Pinned: true}) // the same text again: the last wins
	})
	imp("3", func(w *command.ImportWriter) { // refused: a new entity for an address that has one
		w.AddRegistration(command.ImportRegistration{Addr: ip(400).IP, Contact: "pm@d.example"})
		w.AddRegistration(command.ImportRegistration{Addr: ip(5).IP, Contact: "pm@d.example"})
		w.Add(ip(401), command.ImportRecord{Text: "never@d.example"})
	})
	imp("4", func(w *command.ImportWriter) {
		for i := range 100 {
			w.Add(ip(i*2), command.ImportRecord{Text: fmt.Sprintf("user%d@d%d.example", i, i%7)}) // refreshes
		}
	})
	return out
}

// readGoldenLog reads the length-prefixed log entries of a testdata file.
func readGoldenLog(tb testing.TB, name string) [][]byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return splitLog(tb, b)
}

// splitLog splits length-prefixed log entries.
func splitLog(tb testing.TB, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			tb.Fatalf("damaged log at %d bytes from its end", len(b))
		}
		out = append(out, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return out
}

// applyGolden applies entries one per raft batch and returns the state's
// dump: every result, entity, pair and VERP source with all its fields.
func applyGolden(tb testing.TB, entries [][]byte) (*FSM, []byte) {
	f := NewFSM(nil, nil)
	var dump bytes.Buffer
	for i, data := range entries {
		r := f.ApplyEntries([]Entry{{Index: uint64(i + 1), Term: 1, Command: true, Data: data}})[0].(command.Result)
		fmt.Fprintf(&dump, "result %d: %+v", i, r)
		if r.Err != nil {
			fmt.Fprintf(&dump, " %+v", *r.Err)
		}
		dump.WriteByte('\n')
	}
	v := f.Index().Load()
	v.Entities(func(e *record.Entity) bool { fmt.Fprintf(&dump, "entity %+v\n", e); return true })
	v.Pairs(func(p *record.Pair) bool { fmt.Fprintf(&dump, "pair %+v\n", p); return true })
	v.Verps(func(p *record.Verp) bool { fmt.Fprintf(&dump, "verp %+v\n", p); return true })
	fmt.Fprintf(&dump, "counts %+v\n", v.Counts())
	return f, dump.Bytes()
}

// TestImport_OldLogAppliesAsMainDid: Import entries written by main's
// encoder (JSON, base64 record list) still apply, to exactly the state
// main made of them: every entity, pair and VERP source with all their
// fields, and every result.
func TestImport_OldLogAppliesAsMainDid(t *testing.T) {
	if *updateImportGolden {
		var log bytes.Buffer
		for _, e := range goldenImports(t) {
			b, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			log.Write(binary.AppendUvarint(nil, uint64(len(b))))
			log.Write(b)
		}
		_, dump := applyGolden(t, splitLog(t, log.Bytes()))
		if err := os.WriteFile("testdata/import-v5.log", log.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/import-v5.state", dump, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/import-v5.state")
	if err != nil {
		t.Fatal(err)
	}
	if _, got := applyGolden(t, readGoldenLog(t, "import-v5.log")); !bytes.Equal(got, want) {
		t.Errorf("the old log's state differs from main's:\n%s", firstDiff(got, want))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) && i < len(w); i++ {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
