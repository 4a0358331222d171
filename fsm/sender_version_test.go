package fsm

import (
	"testing"

	"github.com/wlns/wlns/command"
)

// rawLog applies log entries given as their bytes, as raft hands them over.
func (h *fsmHarness) rawLog(entries ...string) []command.Result {
	h.tb.Helper()
	es := make([]Entry, len(entries))
	for i, b := range entries {
		h.idx++
		es[i] = Entry{Index: h.idx, Term: 1, Command: true, Data: []byte(b)}
	}
	out := make([]command.Result, len(es))
	for i, r := range h.f.ApplyEntries(es) {
		out[i] = r.(command.Result)
	}
	return out
}

// A log written by the builds before command.QuotedSenderVersion (version
// 1 and batch version 6 entries, as their bytes) replays as they applied
// it, " a"@x as the sender " a@x" and "\"q\""@x as "q"@x; the same
// commands written now (version 8, what command.New stamps) keep the
// quotes, so that the stored sender normalises to itself and a delete of
// what the API returned finds it.
func TestFSM_SendersNormaliseAsTheirEntryVersionDid(t *testing.T) {
	h := newHarness(t)
	rs := h.rawLog(
		`{"v":1,"type":"pair.put","time":1700000000,"body":{"sender":"\" a\"@b.example","ip":"192.0.2.4"}}`,
		`{"v":6,"type":"batch","time":1700000000,"body":{"commands":[{"v":1,"type":"pair.put","body":{"sender":"\"\\\"q\\\"\"@b.example","ip":"192.0.2.4"}}]}}`,
	)
	for i, r := range rs {
		if r.Err != nil {
			t.Fatalf("old entry %d: %v", i, r.Err)
		}
	}
	v := h.view()
	id := entityIDOf(v, "192.0.2.4")
	for _, old := range []string{" a@b.example", `"q"@b.example`} {
		if v.Pair(id, []byte(old)) == nil {
			t.Errorf("old entry's pair %q is missing: it replayed differently", old)
		}
	}
	for _, s := range []string{`" a"@b.example`, `"\"q\""@b.example`} {
		e := env(t, command.PairPut, t0, "", command.PairBody{Sender: s, IP: "192.0.2.4"})
		if e.V != command.QuotedSenderVersion {
			t.Fatalf("pair.put of %s stamped version %d, want %d", s, e.V, command.QuotedSenderVersion)
		}
		if r := h.apply(e)[0]; r.Err != nil || !r.Created {
			t.Fatalf("pair.put %s: %+v", s, r)
		}
		if h.view().Pair(id, []byte(s)) == nil {
			t.Errorf("pair %s is not stored as the normalised %s", s, s)
		}
		if r := h.apply(env(t, command.PairDelete, t0, "", command.PairBody{Sender: s, IP: "192.0.2.4"}))[0]; r.Err != nil {
			t.Errorf("pair.delete %s: %v", s, r.Err)
		}
	}
}
