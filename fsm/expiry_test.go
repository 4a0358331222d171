package fsm

import (
	"bytes"
	"maps"
	"testing"

	"github.com/wlns/wlns/command"
	"io"
)

const day = 86400

// expiryFixture: at t0, group A (192.0.2.0/24) with an address pair and a
// domain pair, a registered lone relay B, a VERP source on A, an
// auto-created lone entity for 203.0.113.9 with one pair, and a pinned pair.
func expiryFixture(t *testing.T) *fsmHarness {
	h := newHarness(t)
	h.ok(groupA.typ, groupA.body)                                                         // entity 1
	h.ok(loneB.typ, loneB.body)                                                           // entity 2
	h.ok(command.PairPut, command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.10"})    // on 1
	h.ok(command.PairPut, command.PairBody{Sender: "umkc.edu", IP: "192.0.2.10"})         // domain pair on 1
	h.ok(command.VerpPut, command.VerpBody{Domain: "lists.example.org", Entity: 1})       // on 1
	h.ok(command.PairPut, command.PairBody{Sender: "eve@example.net", IP: "203.0.113.9"}) // auto entity 3
	h.ok(command.PairPut, command.PairBody{Sender: "keep@example.net", Entity: 2, Pinned: true})
	return h
}

func touchPair(id uint64, sender string, age int64) command.TouchBody {
	return command.TouchBody{Entities: []command.TouchEntity{{ID: id, Pairs: []command.TouchItem{{Key: sender, Age: age}}}}}
}

func TestFSM_TouchRaisesLastQueriedOnlyForward(t *testing.T) {
	h := expiryFixture(t)
	before := h.view().LookupPair(1, []byte("dave@umkc.edu"))
	before.MarkSeen(t0 + 5)
	h.now = t0 + 100
	h.ok(command.Touch, touchPair(1, "dave@umkc.edu", 10))
	p := h.view().Pair(1, []byte("dave@umkc.edu"))
	if p.LastQueried != t0+90 {
		t.Fatalf("LastQueried = %d, want %d", p.LastQueried, t0+90)
	}
	if before.LastQueried() != 0 {
		t.Fatal("touch changed the published version in place; it must write a new one")
	}
	if p.Seen() != t0+5 || p.Created != t0 || p.Updated != t0 {
		t.Errorf("copy lost meta: seen %d created %d updated %d", p.Seen(), p.Created, p.Updated)
	}
	h.now = t0 + 200
	h.ok(command.Touch, touchPair(1, "dave@umkc.edu", 150)) // older than what is known
	if got := h.view().Pair(1, []byte("dave@umkc.edu")).LastQueried; got != t0+90 {
		t.Errorf("an older touch moved LastQueried back to %d", got)
	}
	// Unknown records and entities are skipped, not created.
	h.ok(command.Touch, command.TouchBody{Entities: []command.TouchEntity{{ID: 99, Self: true}, {ID: 1, Pairs: []command.TouchItem{{Key: "nobody@x.org"}}}}})
	if c := h.view().Counts(); c.Pairs != 3 || c.Entities != 3 {
		t.Errorf("touch of missing records changed counts: %+v", c)
	}
	// Entity and VERP touches.
	h.ok(command.Touch, command.TouchBody{Entities: []command.TouchEntity{{ID: 2, Self: true, Age: 1}, {ID: 1, Verps: []command.TouchItem{{Key: "lists.example.org", Age: 2}}}}})
	if e, vp := h.view().Entity(2), h.view().Verp(1, []byte("lists.example.org")); e.LastQueried != t0+199 || vp.LastQueried != t0+198 {
		t.Errorf("entity LastQueried %d, VERP %d", e.LastQueried, vp.LastQueried)
	}
}

func TestFSM_ExpireCutoffsPerKind(t *testing.T) {
	type want struct{ pairs, domainPairs, verps, entities int }
	cutoff := int64(t0 + 180*day)
	cases := []struct {
		name  string
		touch *command.TouchBody // applied at t0+10 days
		body  command.ExpireBody
		want  want
	}{
		{"nothing is due yet", nil, command.ExpireBody{Pairs: t0, DomainPairs: t0, Verps: t0, Relays: t0, Orphans: t0}, want{3, 1, 1, 3}},
		{"all due: the pinned pair, its relay and the group stay", nil,
			command.ExpireBody{Pairs: cutoff, DomainPairs: cutoff, Verps: cutoff, Relays: cutoff, Orphans: cutoff},
			// group 1 never expires (Groups 0) though empty; relay 2 keeps its pinned pair; entity 3 lost its last pair.
			want{1, 0, 0, 2}},
		{"only domain pairs", nil, command.ExpireBody{DomainPairs: cutoff}, want{3, 0, 1, 3}},
		{"group expires when configured and empty", nil,
			command.ExpireBody{Pairs: cutoff, DomainPairs: cutoff, Verps: cutoff, Groups: cutoff, Orphans: cutoff}, want{1, 0, 0, 1}},
		{"group with a live pair stays although its own time is past", ptr(touchPair(1, "dave@umkc.edu", 0)),
			command.ExpireBody{Pairs: t0 + 5*day, DomainPairs: cutoff, Verps: cutoff, Groups: cutoff, Orphans: cutoff}, want{2, 0, 0, 2}},
		{"a touch before the sweep saves the pair (the FSM re-checks LastQueried)", ptr(touchPair(3, "eve@example.net", 0)),
			command.ExpireBody{Pairs: t0 + 5*day, Orphans: t0 + 5*day}, want{2, 1, 1, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := expiryFixture(t)
			if c.touch != nil {
				h.now = t0 + 10*day
				h.ok(command.Touch, *c.touch)
			}
			h.now = t0 + 200*day
			h.ok(command.Expire, c.body)
			v := h.view()
			cnt := v.Counts()
			got := want{cnt.Pairs, cnt.DomainPairs, cnt.VerpSources, cnt.Entities}
			if got != c.want {
				t.Errorf("after expire: %+v, want %+v", got, c.want)
			}
			if v.Pair(2, []byte("keep@example.net")) == nil {
				t.Error("the pinned pair expired")
			}
			if v.EntityOf(addr("203.0.113.9")) == nil && v.Pair(3, []byte("eve@example.net")) != nil {
				t.Error("auto-created entity deleted but its pair kept")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestFSM_ExpireOfTouchedRecordUsesLastQueried(t *testing.T) {
	h := expiryFixture(t)
	h.now = t0 + 100*day
	h.ok(command.Touch, touchPair(1, "dave@umkc.edu", 0))
	h.now = t0 + 200*day
	// Cutoff between creation (t0) and the query (t0+100d): queried, so kept.
	h.ok(command.Expire, command.ExpireBody{Pairs: t0 + 50*day})
	v := h.view()
	if v.Pair(1, []byte("dave@umkc.edu")) == nil {
		t.Error("a pair queried after the cutoff expired")
	}
	if v.Pair(3, []byte("eve@example.net")) != nil {
		t.Error("a pair never queried and created before the cutoff was kept")
	}
	// The auto-created entity 3 stays without Orphans set.
	if v.Entity(3) == nil {
		t.Error("entity 3 deleted without an orphan cutoff")
	}
}

func TestFSM_ExpireIsNotAllowedInABatch(t *testing.T) {
	h := expiryFixture(t)
	inner := env(t, command.Expire, 0, "", command.ExpireBody{Pairs: t0 + 1})
	r := h.do(command.Batch, command.BatchBody{Commands: []command.Envelope{*inner}})
	if r.Err == nil || r.Err.Code != command.Invalid {
		t.Fatalf("expire in a batch: %+v", r)
	}
	if err := CheckProposal(env(t, command.Batch, t0, "", command.BatchBody{Commands: []command.Envelope{*inner}})); err == nil {
		t.Error("Store.Apply would propose an expire inside a batch")
	}
}

func TestSnapshot_KeepsLastQueried(t *testing.T) {
	h := expiryFixture(t)
	h.now = t0 + 3*day
	h.ok(command.Touch, command.TouchBody{Entities: []command.TouchEntity{{ID: 2, Self: true, Age: 7,
		Pairs: []command.TouchItem{{Key: "keep@example.net", Age: 5}}}, {ID: 1, Verps: []command.TouchItem{{Key: "lists.example.org", Age: 9}}}}})
	snap := persist(t, h.f)
	g := NewFSM(nil, nil)
	if _, err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	v := g.Index().Load()
	check := func(what string, got, want int64) {
		if got != want {
			t.Errorf("%s LastQueried after restore = %d, want %d", what, got, want)
		}
	}
	check("relay", v.Entity(2).LastQueried, t0+3*day-7)
	check("pair", v.Pair(2, []byte("keep@example.net")).LastQueried, t0+3*day-5)
	check("VERP", v.Verp(1, []byte("lists.example.org")).LastQueried, t0+3*day-9)
	if !bytes.Equal(snap, persist(t, g)) {
		t.Error("restored state persists to different bytes")
	}

}

// sweeps records what an FSM reports to its Metrics.
type sweeps struct {
	at []int64
	n  []Expired
}

func (s *sweeps) Swept(at int64, n Expired) { s.at, s.n = append(s.at, at), append(s.n, n) }

func TestFSM_ExpireCountsByKindAndSweepTime(t *testing.T) {
	h := expiryFixture(t)
	m := &sweeps{}
	h.f.m = m
	h.now = t0 + 200*day
	c := int64(t0 + 180*day)
	h.ok(command.Expire, command.ExpireBody{Pairs: c, DomainPairs: c, Verps: c, Orphans: c})
	want := Expired{kindPairs: 2, kindDomainPairs: 1, kindVerps: 1, kindOrphans: 1}
	if len(m.n) != 1 || !maps.Equal(m.n[0], want) || m.at[0] != h.now {
		t.Fatalf("swept %v at %v, want %v at %d", m.n, m.at, want, h.now)
	}
}
