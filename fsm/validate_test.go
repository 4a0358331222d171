package fsm

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
)

func TestCheckProposal_EntityText(t *testing.T) {
	group := func(name string) command.EntityBody {
		return command.EntityBody{Name: name, Group: true, Prefixes: []string{"192.0.2.0/28"}}
	}
	cases := []struct {
		name string
		typ  command.Type
		body command.EntityBody
		want string // error substring; empty: accepted
	}{
		{"plain name", command.EntityPut, group("umkc-mx"), ""},
		{"spaces and punctuation", command.EntityPut, group("UMKC mail relays (campus)"), ""},
		{"non-ASCII letters", command.EntityPut, group("Universität Zürich"), ""},
		{"128 bytes", command.EntityPut, group(strings.Repeat("a", 128)), ""},
		{"129 bytes", command.EntityPut, group(strings.Repeat("a", 129)), "129 bytes; at most 128"},
		{"CR LF", command.EntityPut, group("mx\r\nX-Injected: yes"), "non-printable character U+000D"},
		{"NUL", command.EntityPut, group("mx\x00"), "non-printable character U+0000"},
		{"tab", command.EntityPut, group("a\tb"), "non-printable character U+0009"},
		{"escape", command.EntityPut, group("\x1b[31mred"), "non-printable character U+001B"},
		{"DEL", command.EntityPut, group("mx\x7f"), "non-printable character U+007F"},
		{"C1 control", command.EntityPut, group("mx\u0085"), "non-printable character U+0085"},
		{"bidi override", command.EntityPut, group("mx\u202egnp.exe"), "non-printable character U+202E"},
		{"invalid UTF-8", command.EntityPut, group("mx\xff"), "not valid UTF-8"},
		{"contact with a newline", command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.1"}, Registered: true, Contact: "a@b.example\n"}, "entity contact"},
		{"delete names nothing", command.EntityDelete, command.EntityBody{ID: 7}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckProposal(env(t, c.typ, t0, "", c.body))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	raw := &command.Envelope{V: 1, Type: command.EntityPut, Time: t0,
		Body: []byte("{\"name\":\"mx\xff\",\"group\":true,\"prefixes\":[\"192.0.2.0/28\"]}")}
	if err := CheckProposal(raw); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("a name with an invalid byte in the entry: %v", err)
	}
	batch := env(t, command.Batch, t0, "", command.BatchBody{Commands: []command.Envelope{*env(t, command.EntityPut, t0, "", group("a\nb"))}})
	if err := CheckProposal(batch); err == nil || !strings.Contains(err.Error(), "batch command 0") {
		t.Errorf("a bad name inside a batch: %v", err)
	}
}

// An entity.put already in the log (written before the name rule) still
// applies the same way on replay: the rule is not in the apply path.
func TestFSM_OldEntryWithControlCharacterNameStillApplies(t *testing.T) {
	h := newHarness(t)
	r := h.ok(command.EntityPut, command.EntityBody{Name: "old\x01name", Group: true, Prefixes: []string{"192.0.2.0/28"}})
	if got := h.view().Entity(r.ID); got == nil || got.Name != "old\x01name" {
		t.Fatalf("replayed entity = %+v, want the name as logged", got)
	}
}

// The state machine branches on V only where two versions normalise a
// sender differently, and command.New stamps such a sender with the newer
// one: a log stamped with the lowest versions (what command.New writes)
// and the same log stamped with the newest version give the same results
// and the same state, byte for byte.
func TestFSM_OutcomeDoesNotDependOnEnvelopeVersion(t *testing.T) {
	log := randomLog(t, 7, 3000)
	versions := map[int]int{}
	restamped := make([]*command.Envelope, len(log))
	for i, e := range log {
		versions[e.V]++
		c := *e
		c.V = command.Version
		restamped[i] = &c
	}
	if versions[1] == 0 || versions[2] == 0 || versions[3] == 0 {
		t.Fatalf("random log has versions %v; want all of 1, 2 and 3", versions)
	}
	a, b := newHarness(t), newHarness(t)
	ra, rb := a.apply(log...), b.apply(restamped...)
	for i := range ra {
		ja, _ := json.Marshal(ra[i])
		jb, _ := json.Marshal(rb[i])
		if !bytes.Equal(ja, jb) {
			t.Fatalf("entry %d (%s, v%d): %s, restamped v%d: %s", i, log[i].Type, log[i].V, ja, command.Version, jb)
		}
	}
	if !bytes.Equal(persist(t, a.f), persist(t, b.f)) {
		t.Fatal("the same log with other envelope versions gives another state")
	}
}
