package fsm

import (
	"bytes"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/wlns/wlns/command"
)

// counting applies the zone.serial entry the leader proposes first.
func (h *fsmHarness) counting(above uint32) {
	h.tb.Helper()
	h.apply(env(h.tb, command.ZoneSerial, h.now, "", command.ZoneSerialBody{Above: above}))
}

// serials applies each envelope as its own batch and returns the zone
// serial after each.
func (h *fsmHarness) serials(es ...*command.Envelope) []uint32 {
	var out []uint32
	for _, e := range es {
		h.apply(e)
		out = append(out, h.view().ZoneSerial())
	}
	return out
}

// Two states never share a zone serial, even when their commands carry the
// same second, and the serial survives a snapshot: what a secondary that
// changes mirror relies on (IXFR from its serial).
func TestFSM_ZoneSerialIsUniquePerState(t *testing.T) {
	h := newHarness(t)
	h.counting(0)
	seen := h.serials(env(t, groupA.typ, t0, "", groupA.body), env(t, pairA.typ, t0, "", pairA.body), env(t, loneB.typ, t0, "", loneB.body))
	if want := []uint32{t0, t0 + 1, t0 + 2}; !slices.Equal(seen, want) {
		t.Fatalf("zone serials of three commands in one second: %v, want %v", seen, want)
	}
	snap := persist(t, h.f)
	fresh := newHarness(t)
	if _, err := fresh.f.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if got := fresh.view().ZoneSerial(); got != t0+2 {
		t.Fatalf("zone serial after restoring the snapshot %d, want %d", got, t0+2)
	}
	fresh.apply(env(t, pairA.typ, t0+1, "", command.PairBody{Sender: "b@umkc.edu", IP: "192.0.2.10"}))
	h.apply(env(t, pairA.typ, t0+1, "", command.PairBody{Sender: "b@umkc.edu", IP: "192.0.2.10"}))
	if a, b := fresh.view().ZoneSerial(), h.view().ZoneSerial(); a != t0+3 || a != b {
		t.Fatalf("the next command: %d on the restored FSM, %d on the original; want %d on both", a, b, t0+3)
	}
}

// Seen reports, tokens, rejected and duplicate commands change no answer:
// the serial stays, so secondaries are not handed a new version (and the
// zones are not written out again) for them. A group entry moves it once.
func TestFSM_ZoneSerialMovesOnlyWhenAnAnswerCan(t *testing.T) {
	h := newHarness(t)
	h.counting(0)
	h.apply(env(t, groupA.typ, t0, "", groupA.body), env(t, pairA.typ, t0, "req-1", pairA.body))
	base := h.view().ZoneSerial()
	same := []*command.Envelope{
		env(t, command.Touch, t0+100, "", command.TouchBody{Entities: []command.TouchEntity{{ID: 1, Pairs: []command.TouchItem{{Key: "dave@umkc.edu"}}}}}),
		env(t, command.TokenPut, t0+200, "", command.TokenBody{Name: "ops", Hash: secretHash("o"), Role: "admin"}),
		env(t, command.PairDelete, t0+300, "", command.PairBody{Sender: "nobody@umkc.edu", Entity: 1}), // rejected: not found
		env(t, pairA.typ, t0+400, "req-1", pairA.body),                                                 // duplicate
	}
	for i, got := range h.serials(same...) {
		if got != base {
			t.Fatalf("%s moved the zone serial from %d to %d", same[i].Type, base, got)
		}
	}
	group := groupOf(t, env(t, pairA.typ, t0+500, "", command.PairBody{Sender: "x@umkc.edu", IP: "192.0.2.10"}),
		env(t, pairA.typ, t0+500, "", command.PairBody{Sender: "y@umkc.edu", IP: "192.0.2.10"}))
	if got := h.serials(group)[0]; got != t0+500 {
		t.Fatalf("a group of two changes at %d: serial %d, want %d", t0+500, got, t0+500)
	}
}

// groupOf wraps commands into one group entry as the store does.
func groupOf(tb testing.TB, cmds ...*command.Envelope) *command.Envelope {
	b := command.GroupBody{}
	for _, c := range cmds {
		b.Commands = append(b.Commands, *c)
	}
	return env(tb, command.Group, cmds[0].Time, "", b)
}

// The serial wraps at 2^32 as RFC 1982 says: each next serial is after
// the one before in serial arithmetic (the one after 4294967295 is 0),
// and a command time that serial arithmetic puts before the serial (the
// clock, not yet wrapped) does not pull it back.
func TestFSM_ZoneSerialWrapsInSerialArithmetic(t *testing.T) {
	const top = math.MaxUint32
	h := newHarness(t)
	h.apply(env(t, groupA.typ, top-1, "", groupA.body))
	h.counting(0)
	var es []*command.Envelope
	for _, s := range []string{"a", "b", "c", "d"} {
		es = append(es, env(t, pairA.typ, top, "", command.PairBody{Sender: s + "@umkc.edu", IP: "192.0.2.10"}))
	}
	got := h.serials(es...)
	if want := []uint32{top, 0, 1, 2}; !slices.Equal(got, want) {
		t.Fatalf("serials past 2^32-1: %v, want %v", got, want)
	}
	prev := uint32(top - 1)
	for _, s := range got {
		if !SerialBefore(prev, s) {
			t.Fatalf("serial %d does not follow %d in RFC 1982 arithmetic", s, prev)
		}
		prev = s
	}
}

// Every mirror that installs the same snapshot shows the same serial,
// whatever it had applied before (a follower whose serial was higher, a
// node restarting with nothing): installing a snapshot replaces the
// serial, it is not the larger of the two.
func TestFSM_RestoreTakesTheSnapshotsSerial(t *testing.T) {
	old := newHarness(t)
	old.counting(0)
	old.apply(env(t, groupA.typ, t0, "", groupA.body), env(t, pairA.typ, t0+50, "", pairA.body))
	snap := persist(t, old.f)
	want := old.view().ZoneSerial()

	ahead := newHarness(t)
	ahead.counting(0)
	ahead.apply(env(t, loneB.typ, t0+900, "", loneB.body))
	for name, h := range map[string]*fsmHarness{"a node that had applied more": ahead, "a node starting empty": newHarness(t)} {
		if _, err := h.f.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
			t.Fatal(err)
		}
		if got := h.view().ZoneSerial(); got != want {
			t.Fatalf("%s: zone serial %d after installing the snapshot, want the snapshot's %d", name, got, want)
		}
	}
}
