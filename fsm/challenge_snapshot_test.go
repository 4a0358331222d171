package fsm

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// challengeScene builds every kind of verification state: open, sent,
// confirmed, forged (with a suppression), list and expired challenges, two
// challenges for one open key, and counted rate windows.
func challengeScene(t *testing.T) *fsmHarness {
	h := chHarness(t)
	limited := func(b command.ChallengeOpenBody) command.ChallengeOpenBody {
		b.Limits = command.ChallengeLimits{Window: 86400, PerSender: 5, PerDomain: 2, PerEntity: 50}
		return b
	}
	h.ok(command.ChallengeOpen, limited(chOpen("expired", "dave@umkc.edu", "192.0.2.5")))
	h.now += 7200
	h.ok(command.ChallengeOpen, limited(chOpen("open", "dave@umkc.edu", "192.0.2.5"))) // same key as "expired"
	h.ok(command.ChallengeSent, command.ChallengeSentBody{ID: "open"})
	h.ok(command.ChallengeOpen, limited(chOpen("conf", "ann@x.example", "198.51.100.7")))
	h.ok(command.ChallengeOpen, limited(chOpen("forged", "bob@x.example", "198.51.100.7")))
	h.ok(command.ChallengeOpen, limited(chOpen("list", "l-1@lists.example.org", "192.0.2.5")))
	h.now += 60
	h.ok(command.ChallengeConfirm, chConfirm("conf", "reply"))
	h.ok(command.ChallengeReport, chReport("forged", "forgery", 86400))
	h.ok(command.ChallengeReport, chReport("list", "list", 0))
	return h
}

func TestSnapshot_ChallengeStateRoundTrip(t *testing.T) {
	a := challengeScene(t).f
	snap := persist(t, a)
	b := NewFSM(nil, nil)
	if _, err := b.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if again := persist(t, b); !bytes.Equal(snap, again) {
		t.Fatalf("persist after restore differs: %d vs %d bytes", len(snap), len(again))
	}
	if a.ChallengeCount() != 5 || b.ChallengeCount() != 5 {
		t.Fatalf("challenge counts %d, %d", a.ChallengeCount(), b.ChallengeCount())
	}
	b.Challenges(func(c *record.Challenge) bool {
		if got := a.ChallengeByID(c.ID); *got != *c || b.Challenge(c.TokenHash) != c {
			t.Errorf("restored %+v, had %+v", c, got)
		}
		return true
	})
	// The restored FSM decides exactly like the original: the open index
	// (which of two challenges is open for a key), the suppression and the
	// rate windows came back.
	now := a.ChallengeByID("list").Closed + 10
	more := []*command.Envelope{
		env(t, command.ChallengeOpen, now, "", chOpen("again", "dave@umkc.edu", "192.0.2.9")),  // open challenge exists
		env(t, command.ChallengeOpen, now, "", chOpen("sup", "bob@x.example", "198.51.100.7")), // suppressed
		env(t, command.ChallengeOpen, now, "", func() command.ChallengeOpenBody { // per-domain limit
			o := chOpen("lim", "cy@x.example", "192.0.2.9")
			o.Limits = command.ChallengeLimits{Window: 86400, PerDomain: 2}
			return o
		}()),
		env(t, command.ChallengeConfirm, now, "", chConfirm("open", "link")),
		env(t, command.ChallengeConfirm, now, "", chConfirm("expired", "link")),
	}
	va := a.Index().Load()
	ha, hb := &fsmHarness{tb: t, f: a, idx: va.Serial()}, &fsmHarness{tb: t, f: b, idx: va.Serial()}
	ra, rb := ha.apply(more...), hb.apply(more...)
	want := []command.Code{command.Conflict, command.Refused, command.Limited, "", command.NotFound}
	for i := range more {
		if code(ra[i]) != want[i] || code(rb[i]) != want[i] {
			t.Errorf("command %d: original %v, restored %v, want %q", i, ra[i].Err, rb[i].Err, want[i])
		}
	}
	if !bytes.Equal(persist(t, a), persist(t, b)) {
		t.Fatal("restored FSM diverges on further commands")
	}
}

func code(r command.Result) command.Code {
	if r.Err == nil {
		return ""
	}
	return r.Err.Code
}

// testdata/snapshot-v1.bin was written by the snapshot code before the
// challenge records (format 1): group Relays (198.51.100.0/24,
// 2001:db8::/64, registered), pair dave@umkc.edu through it, domain pair
// example.net and VERP source lists.example.com through a lone 192.0.2.1,
// token ops, two request IDs.
func TestSnapshot_RestoresFormat1(t *testing.T) {
	old, err := os.ReadFile("testdata/snapshot-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFSM(nil, nil)
	if _, err := f.Restore(io.NopCloser(bytes.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	v := f.Index().Load()
	g := v.EntityOf(addr("198.51.100.9"))
	if g == nil || g.Name != "Relays" || !g.Registered || v.Pair(g.ID, []byte("dave@umkc.edu")) == nil {
		t.Fatalf("group or pair missing: %+v", g)
	}
	lone := v.EntityOf(addr("192.0.2.1"))
	if lone == nil || v.Pair(lone.ID, []byte("example.net")) == nil || v.Verp(lone.ID, []byte("lists.example.com")) == nil {
		t.Fatal("lone relay, domain pair or VERP source missing")
	}
	if tok := f.Token(secretHash("secret")); tok == nil || tok.Name != "ops" || f.ChallengeCount() != 0 {
		t.Fatal("token missing or challenges appeared")
	}
	// Request IDs came back: a retried r2 is a duplicate.
	h := &fsmHarness{tb: t, f: f, idx: v.Serial(), now: t0 + 10}
	if r := h.apply(env(t, command.PairPut, t0+10, "r2", command.PairBody{Sender: "x@y.example", IP: "192.0.2.1"}))[0]; !r.Duplicate {
		t.Fatalf("request ID not restored: %+v", r)
	}
	// It is written back as format 5 with the same records.
	restoreUpgraded(t, "testdata/snapshot-v1.bin")
}

// testdata/snapshot-v2.bin was written by the snapshot code before sliding
// limits (format 2): challengeScene, whose fixed one-day windows count
// ann@ and bob@x.example (per domain 2) in the day bucket that began at
// t0+6400. This build restores it, writes it back as format 5, and
// counts its fixed windows as buckets of sliding ones.
func TestSnapshot_RestoresFormat2(t *testing.T) {
	f := restoreUpgraded(t, "testdata/snapshot-v2.bin")
	if f.ChallengeCount() != 5 || f.ChallengeByID("conf").State != record.ChallengeConfirmed {
		t.Fatalf("%d challenges restored", f.ChallengeCount())
	}
	h := &fsmHarness{tb: t, f: f, idx: f.Index().Load().Serial()}
	open := func(id string, at int64, sliding bool) command.Result {
		b := chOpen(id, id+"@x.example", "192.0.2.9")
		b.Limits = command.ChallengeLimits{Window: 86400, PerDomain: 2, Sliding: sliding}
		h.now = at
		return h.do(command.ChallengeOpen, b)
	}
	wantRejected(t, open("fixed", t0+7300, false), command.Limited, "x.example")
	wantRejected(t, open("slide", t0+7300, true), command.Limited, "in the last 86400 s")
	// Half a day into the next bucket the old bucket's 2 weigh 1.
	if r := open("later", t0+92800+43200, true); r.Err != nil {
		t.Fatalf("sliding open half a day after the old bucket: %v", r.Err)
	}
	snap := persist(t, f)
	g := NewFSM(nil, nil)
	if _, err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil || !bytes.Equal(persist(t, g), snap) {
		t.Fatalf("format 5 round trip: %v", err)
	}
	snap[len(snapMagic)] = 2 // a sliding window (and flat tables) under a format-2 header
	if _, err := NewFSM(nil, nil).Restore(io.NopCloser(bytes.NewReader(snap))); err == nil {
		t.Fatal("a format-5 body restored from a format-2 snapshot")
	}
}

func TestSnapshot_RefusesChallengeRecordsInFormat1(t *testing.T) {
	snap := persist(t, challengeScene(t).f)
	snap[len(snapMagic)] = 1 // claim format 1: the state record is then too long
	_, err := NewFSM(nil, nil).Restore(io.NopCloser(bytes.NewReader(snap)))
	if err == nil {
		t.Fatal("a format-2 body under a format-1 header restored")
	}
}
