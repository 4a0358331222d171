package fsm

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// Challenge fixtures: entity 1 is group Relays-A (192.0.2.0/24), entity 2
// the registered lone relay 198.51.100.7, entity 3 an unregistered lone
// relay (203.0.113.9) that a pair write created.
var chSetup = []step{
	groupA, loneB,
	{command.PairPut, command.PairBody{Sender: "old@c.example", IP: "203.0.113.9"}},
}

// chVerp is a VERP challenge for list domain via ip.
func chVerp(id, domain, ip string) command.ChallengeOpenBody {
	b := chOpen(id, "postmaster@"+domain, ip)
	b.Kind, b.Domain = "verp", domain
	return b
}

// chHarness is a harness with the challenge fixtures applied.
func chHarness(t *testing.T) *fsmHarness {
	h := newHarness(t)
	for _, s := range chSetup {
		h.ok(s.typ, s.body)
	}
	return h
}

// wantRejected fails unless r is rejected with code and a message holding
// each of msgs.
func wantRejected(t *testing.T, r command.Result, code command.Code, msgs ...string) {
	t.Helper()
	if r.Err == nil || r.Err.Code != code {
		t.Fatalf("result %+v, want %s rejection", r, code)
	}
	for _, m := range msgs {
		if !strings.Contains(r.Err.Message, m) {
			t.Fatalf("rejection %q does not say %q", r.Err.Message, m)
		}
	}
}

func TestFSM_ChallengeOpen(t *testing.T) {
	noReq := chOpen("c2", "eve@c.example", "203.0.113.9")
	noReq.RequireRegistered = false
	byID := chOpen("c2", "dave@umkc.edu", "")
	byID.Entity = 2
	cases := []struct {
		name  string
		setup []step
		open  command.ChallengeOpenBody
		code  command.Code
		msg   string
	}{
		{name: "group member", open: chOpen("c2", "Dave@UMKC.edu", "192.0.2.10")},
		{name: "IPv6 member", open: chOpen("c2", "dave@umkc.edu", "2001:DB8:0::A")},
		{name: "registered relay by entity ID", open: byID},
		{name: "unregistered relay refused", open: chOpen("c2", "eve@c.example", "203.0.113.9"), code: command.Refused, msg: "not a registered relay"},
		{name: "unregistered relay allowed when not required", open: noReq},
		{name: "address of no entity", open: chOpen("c2", "dave@umkc.edu", "203.0.113.200"), code: command.NotFound, msg: "no relay entity"},
		{name: "unknown entity ID", open: func() command.ChallengeOpenBody { b := byID; b.Entity = 99; return b }(), code: command.NotFound},
		{name: "pair already listed", setup: []step{pairA}, open: chOpen("c2", "dave@umkc.edu", "192.0.2.99"), code: command.Conflict, msg: "already listed"},
		{name: "domain already listed", setup: []step{{command.PairPut, command.PairBody{Sender: "kc.example", Entity: 1}}},
			open: chOpen("c2", "dave@kc.example", "192.0.2.99"), code: command.Conflict, msg: "domain kc.example via entity 1 is already listed"},
		{name: "sender domain is a listed VERP source", setup: []step{{command.VerpPut, command.VerpBody{Domain: "kc.example", Entity: 1}}},
			open: chOpen("c2", "dave@kc.example", "192.0.2.99"), code: command.Conflict, msg: "VERP source"},
		{name: "listed through another entity only", setup: []step{pairA}, open: chOpen("c2", "dave@umkc.edu", "198.51.100.7")},
		{name: "verp", open: chVerp("c2", "Lists.Example.org", "192.0.2.1")},
		{name: "verp already listed", setup: []step{verpA}, open: chVerp("c2", "lists.example.org", "192.0.2.1"), code: command.Conflict, msg: "already listed"},
		{name: "open challenge exists", open: chOpen("c2", "first@umkc.edu", "192.0.2.77"), code: command.Conflict, msg: "open challenge c1 exists"},
		{name: "same sender, other entity", open: chOpen("c2", "first@umkc.edu", "198.51.100.7")},
		{name: "same sender, verp kind", open: func() command.ChallengeOpenBody {
			b := chVerp("c2", "umkc.edu", "192.0.2.1")
			b.Sender = "first@umkc.edu"
			return b
		}()},
		{name: "same ID", open: chOpen("c1", "other@umkc.edu", "192.0.2.10"), code: command.Conflict},
		{name: "same token", open: func() command.ChallengeOpenBody {
			b := chOpen("c2", "other@umkc.edu", "192.0.2.10")
			b.TokenHash = strings.ToUpper(secretHash("c1"))
			return b
		}(), code: command.Conflict},
		{name: "domain as sender", open: chOpen("c2", "@umkc.edu", "192.0.2.10"), code: command.Invalid},
		{name: "bad token hash", open: func() command.ChallengeOpenBody {
			b := chOpen("c2", "x@umkc.edu", "192.0.2.10")
			b.TokenHash = "00"
			return b
		}(), code: command.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := chHarness(t)
			for _, s := range c.setup {
				h.ok(s.typ, s.body)
			}
			h.ok(command.ChallengeOpen, chOpen("c1", "first@umkc.edu", "192.0.2.5"))
			before, ents := h.f.ChallengeCount(), h.view().Counts().Entities
			h.now += 60
			r := h.do(command.ChallengeOpen, c.open)
			if c.code != "" {
				wantRejected(t, r, c.code, c.msg)
				if h.f.ChallengeCount() != before || h.f.ChallengeByID("c2") != nil || h.view().Counts().Entities != ents {
					t.Fatal("a refused open stored something")
				}
				return
			}
			if r.Err != nil || !r.Created || r.ID == 0 {
				t.Fatalf("result %+v", r)
			}
			got := h.f.Challenge(c.open.TokenHash)
			if got == nil || got != h.f.ChallengeByID(c.open.ID) {
				t.Fatal("challenge not found by token and ID")
			}
			if got.State != record.ChallengeOpen || got.Created != h.now || got.Expires != h.now+3600 || got.Entity != r.ID ||
				got.Sender != strings.ToLower(c.open.Sender) || got.Domain != strings.ToLower(c.open.Domain) || got.Kind != record.ChallengeKind(c.open.Kind) ||
				got.IP != normalIP(c.open.IP) {
				t.Fatalf("stored %+v", got)
			}
		})
	}
}

func TestFSM_ChallengeOpenAfterExpiry(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 3599
	wantRejected(t, h.do(command.ChallengeOpen, chOpen("c2", "dave@umkc.edu", "192.0.2.5")), command.Conflict, "open challenge c1")
	h.now++
	if got := h.f.ChallengeByID("c1").Status(h.now); got != record.ChallengeExpired {
		t.Fatalf("status at Expires = %s", got)
	}
	h.ok(command.ChallengeOpen, chOpen("c2", "dave@umkc.edu", "192.0.2.5"))
	wantRejected(t, h.do(command.ChallengeOpen, chOpen("c3", "dave@umkc.edu", "192.0.2.5")), command.Conflict, "open challenge c2")
}

func TestFSM_ChallengeRateLimits(t *testing.T) {
	type try struct {
		at     int64 // seconds after the first
		sender string
		ip     string
		code   command.Code
		msg    string
	}
	cases := []struct {
		name   string
		limits command.ChallengeLimits
		tries  []try
	}{
		{"per sender", command.ChallengeLimits{Window: 3600, PerSender: 1}, []try{
			{0, "a@x.example", "192.0.2.1", "", ""},
			{10, "a@x.example", "198.51.100.7", command.Limited, "per sender a@x.example"},
			{20, "b@x.example", "198.51.100.7", "", ""},
		}},
		{"per domain", command.ChallengeLimits{Window: 3600, PerDomain: 2}, []try{
			{0, "a@x.example", "192.0.2.1", "", ""},
			{0, "b@x.example", "192.0.2.1", "", ""},
			{0, "c@x.example", "198.51.100.7", command.Limited, "per sender domain x.example through all relays"},
			{0, "c@y.example", "198.51.100.7", "", ""},
		}},
		{"per entity", command.ChallengeLimits{Window: 3600, PerEntity: 2}, []try{
			{0, "a@x.example", "192.0.2.1", "", ""},
			{0, "b@y.example", "192.0.2.200", "", ""},
			{0, "c@z.example", "192.0.2.3", command.Limited, "per relay entity"},
			{0, "c@z.example", "198.51.100.7", "", ""},
		}},
		{"window rollover", command.ChallengeLimits{Window: 3600, PerSender: 1}, []try{
			{0, "a@x.example", "192.0.2.1", "", ""},
			{3599, "a@x.example", "198.51.100.7", command.Limited, "until"},
			{3600, "a@x.example", "198.51.100.7", "", ""},
			{3601, "a@x.example", "198.51.100.7", command.Conflict, "open challenge"},
		}},
		{"refused opens are not counted", command.ChallengeLimits{Window: 3600, PerDomain: 1}, []try{
			{0, "a@x.example", "203.0.113.9", command.Refused, ""},
			{0, "a@x.example", "192.0.2.1", "", ""},
		}},
		{"per domain through one relay", command.ChallengeLimits{Window: 3600, PerDomainRelay: 2, PerDomain: 3}, []try{
			{0, "a@x.example", "198.51.100.7", "", ""},
			{0, "b@x.example", "198.51.100.7", "", ""},
			{0, "c@x.example", "198.51.100.7", command.Limited, "per sender domain x.example through relay entity 2"},
			{0, "c@x.example", "192.0.2.1", "", ""}, // another relay: its own count
			{0, "d@x.example", "192.0.2.1", command.Limited, "through all relays"},
		}},
		{"sliding window", command.ChallengeLimits{Window: 3600, PerDomain: 2, Sliding: true}, []try{
			{3000, "a@x.example", "192.0.2.1", "", ""},
			{3500, "b@x.example", "192.0.2.1", "", ""},
			// A fixed window would have started over at 3600.
			{3700, "c@x.example", "192.0.2.1", command.Limited, "2 challenges in the last 3600 s"},
			// At 5400 half the previous bucket is within the window: 1.
			{5400, "c@x.example", "192.0.2.1", "", ""},
			{5400, "d@x.example", "192.0.2.1", command.Limited, "per sender domain x.example"},
			// Two windows later nothing counts.
			{7200 + 3600, "d@x.example", "192.0.2.1", "", ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := chHarness(t)
			start := (h.now/3600 + 1) * 3600 // a window boundary
			for i, tr := range c.tries {
				h.now = start + tr.at
				b := chOpen(string(rune('a'+i)), tr.sender, tr.ip)
				b.Limits = c.limits
				r := h.do(command.ChallengeOpen, b)
				if tr.code == "" {
					if r.Err != nil {
						t.Fatalf("try %d: %v", i, r.Err)
					}
					continue
				}
				wantRejected(t, r, tr.code, tr.msg)
			}
		})
	}
}

// The rejection names the limit that refused, for the API and metrics.
func TestFSM_ChallengeLimitedNamesTheLimit(t *testing.T) {
	cases := []struct {
		limits command.ChallengeLimits
		want   string
	}{
		{command.ChallengeLimits{Window: 60, PerSender: 1, PerDomainRelay: 5, PerDomain: 5, PerEntity: 5}, command.LimitSender},
		{command.ChallengeLimits{Window: 60, PerSender: 5, PerDomainRelay: 1, PerDomain: 1, PerEntity: 1}, command.LimitDomainRelay},
		{command.ChallengeLimits{Window: 60, PerSender: 5, PerDomainRelay: 5, PerDomain: 1, PerEntity: 1}, command.LimitDomain},
		{command.ChallengeLimits{Window: 60, PerSender: 5, PerDomainRelay: 5, PerDomain: 5, PerEntity: 1, Sliding: true}, command.LimitRelay},
	}
	for _, c := range cases {
		h := chHarness(t)
		for i, sender := range []string{"a@x.example", "a@x.example"} {
			b := chOpen(fmt.Sprint("c", i), sender, []string{"192.0.2.1", "192.0.2.2"}[i])
			b.Limits = c.limits
			r := h.do(command.ChallengeOpen, b)
			if i == 0 {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				h.ok(command.ChallengeReport, chReport("c0", "forgery", 0)) // frees the open key; counts on
				continue
			}
			wantRejected(t, r, command.Limited)
			if r.Err.Limit != c.want {
				t.Errorf("limits %+v: Limit %q, want %q", c.limits, r.Err.Limit, c.want)
			}
		}
	}
}

func TestFSM_ChallengeSent(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 5
	h.ok(command.ChallengeSent, command.ChallengeSentBody{ID: "c1", Error: "421 try later"})
	if c := h.f.ChallengeByID("c1"); c.Sent != 0 || c.SendError != "421 try later" {
		t.Fatalf("after a failure: %+v", c)
	}
	h.now += 5
	h.ok(command.ChallengeSent, command.ChallengeSentBody{ID: "c1"})
	if c := h.f.ChallengeByID("c1"); c.Sent != h.now || c.State != record.ChallengeOpen {
		t.Fatalf("after sending: %+v", c)
	}
	wantRejected(t, h.do(command.ChallengeSent, command.ChallengeSentBody{ID: "nope"}), command.NotFound, "no challenge nope")
}

func TestFSM_ChallengeConfirm(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "Dave@umkc.edu", "192.0.2.5"))
	h.ok(command.ChallengeOpen, chVerp("v1", "lists.example.org", "198.51.100.7"))
	h.ok(command.ChallengeOpen, chOpen("old", "old@umkc.edu", "192.0.2.5"))
	published := h.f.ChallengeByID("c1")
	h.now += 100

	r := h.ok(command.ChallengeConfirm, chConfirm("c1", "link"))
	if r.ID != 1 || !r.Created {
		t.Fatalf("result %+v", r)
	}
	p := h.view().Pair(1, []byte("dave@umkc.edu"))
	if p == nil || p.By != "challenge" || p.Method != "challenge-link" || p.Created != h.now {
		t.Fatalf("pair %+v", p)
	}
	if h.view().EntityOf(addr("192.0.2.200")).ID != 1 {
		t.Fatal("the pair is not reachable through another group member")
	}
	c := h.f.Challenge(secretHash("c1"))
	if c.State != record.ChallengeConfirmed || c.Closed != h.now || c.Method != "link" || c.ClosedBy != "node-1" {
		t.Fatalf("challenge %+v", c)
	}
	if published.State != record.ChallengeOpen {
		t.Fatal("confirm changed a published challenge in place")
	}
	wantRejected(t, h.do(command.ChallengeConfirm, chConfirm("c1", "reply")), command.NotFound, badToken)
	wantRejected(t, h.do(command.ChallengeConfirm, chConfirm("never", "link")), command.NotFound, badToken)
	wantRejected(t, h.do(command.ChallengeOpen, chOpen("c2", "dave@umkc.edu", "192.0.2.9")), command.Conflict, "already listed")

	r = h.ok(command.ChallengeConfirm, chConfirm("v1", "reply"))
	if vp := h.view().Verp(2, []byte("lists.example.org")); r.ID != 2 || vp == nil || vp.Method != "challenge-reply" || vp.By != "challenge" {
		t.Fatalf("verp %+v, result %+v", vp, r)
	}

	h.now += 3600
	pairs := h.view().Counts().Pairs
	wantRejected(t, h.do(command.ChallengeConfirm, chConfirm("old", "link")), command.NotFound, badToken)
	if h.view().Counts().Pairs != pairs || h.f.ChallengeByID("old").State != record.ChallengeOpen {
		t.Fatal("an expired confirm changed something")
	}
}

func TestFSM_ChallengeConfirmKeepsExistingPair(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 10
	h.ok(pairA.typ, pairA.body)
	h.now += 10
	if r := h.ok(command.ChallengeConfirm, chConfirm("c1", "link")); r.Created {
		t.Fatal("confirm reported an existing pair as created")
	}
	if p := h.view().Pair(1, []byte("dave@umkc.edu")); p.By != "api" || p.Created != h.now-10 || p.Updated != h.now {
		t.Fatalf("pair %+v", p)
	}
}

func TestFSM_ChallengeConfirmOfDeletedEntity(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "198.51.100.7"))
	h.ok(command.EntityDelete, command.EntityBody{ID: 2})
	wantRejected(t, h.do(command.ChallengeConfirm, chConfirm("c1", "link")), command.NotFound, "no longer exists")
	if h.view().Counts().Pairs != 1 {
		t.Fatal("confirm wrote a pair for a deleted entity")
	}
}

func TestFSM_ChallengeForgerySuppresses(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 10
	if r := h.ok(command.ChallengeReport, chReport("c1", "forgery", 86400)); r.ID != 1 {
		t.Fatalf("result %+v", r)
	}
	until := h.now + 86400
	if c := h.f.ChallengeByID("c1"); c.State != record.ChallengeForged || c.Closed != h.now || c.ClosedBy != "node-2" {
		t.Fatalf("challenge %+v", c)
	}
	wantRejected(t, h.do(command.ChallengeConfirm, chConfirm("c1", "link")), command.NotFound, badToken)
	wantRejected(t, h.do(command.ChallengeReport, chReport("c1", "forgery", 10)), command.NotFound, badToken)
	if !h.f.ChallengeSuppressed("dave@umkc.edu", 1, until-1) || h.f.ChallengeSuppressed("dave@umkc.edu", 1, until) {
		t.Fatal("suppression window wrong")
	}
	h.now = until - 1
	wantRejected(t, h.do(command.ChallengeOpen, chOpen("c2", "dave@umkc.edu", "192.0.2.77")), command.Refused, "suppressed")
	h.ok(command.ChallengeOpen, chOpen("c3", "dave@umkc.edu", "198.51.100.7")) // another entity
	h.now = until
	h.ok(command.ChallengeOpen, chOpen("c2", "dave@umkc.edu", "192.0.2.77"))
}

func TestFSM_ChallengeListReportBatch(t *testing.T) {
	listBatch := func(t *testing.T, verpID string) command.BatchBody {
		return command.BatchBody{Commands: []command.Envelope{
			*env(t, command.ChallengeReport, 0, "", chReport("c1", "list", 0)),
			*env(t, command.ChallengeOpen, 0, "", chVerp(verpID, "lists.example.org", "192.0.2.5")),
		}}
	}
	t.Run("applies both", func(t *testing.T) {
		h := chHarness(t)
		h.ok(command.ChallengeOpen, chOpen("c1", "list-bounce-1@lists.example.org", "192.0.2.5"))
		h.now += 10
		r := h.ok(command.Batch, listBatch(t, "v1"))
		if len(r.Results) != 2 || !r.Results[1].Created {
			t.Fatalf("result %+v", r)
		}
		if c := h.f.ChallengeByID("c1"); c.State != record.ChallengeList || c.Closed != h.now {
			t.Fatalf("reported %+v", c)
		}
		if v := h.f.ChallengeByID("v1"); v == nil || v.Sender != "postmaster@lists.example.org" || v.Status(h.now) != record.ChallengeOpen {
			t.Fatalf("verp challenge %+v", v)
		}
	})
	t.Run("all or nothing", func(t *testing.T) {
		h := chHarness(t)
		h.ok(command.ChallengeOpen, chOpen("c1", "list-bounce-1@lists.example.org", "192.0.2.5"))
		h.ok(verpA.typ, verpA.body) // the VERP open will conflict
		h.now += 10
		before := challengeBytes(h.f)
		r := h.do(command.Batch, listBatch(t, "v1"))
		wantRejected(t, r, command.Conflict, "batch command 1", "already listed")
		if c := h.f.ChallengeByID("c1"); c.State != record.ChallengeOpen || h.f.ChallengeByID("v1") != nil {
			t.Fatalf("failed batch left changes: %+v", c)
		}
		if challengeBytes(h.f) != before {
			t.Fatal("failed batch changed the challenge state")
		}
	})
}

func TestFSM_ChallengeBatchRollbackLeavesNoTrace(t *testing.T) {
	h := chHarness(t)
	limited := chOpen("c1", "dave@umkc.edu", "192.0.2.5")
	limited.Limits = command.ChallengeLimits{Window: 3600, PerSender: 1, PerDomain: 1, PerEntity: 1}
	before, counts := challengeBytes(h.f), h.view().Counts()
	r := h.do(command.Batch, command.BatchBody{Commands: []command.Envelope{
		*env(t, command.ChallengeOpen, 0, "", limited),
		*env(t, command.ChallengeConfirm, 0, "", chConfirm("c1", "link")),
		*env(t, command.ChallengeOpen, 0, "", chOpen("c9", "x@y.example", "203.0.113.200")), // no entity
	}})
	wantRejected(t, r, command.NotFound, "batch command 2")
	if h.f.ChallengeByID("c1") != nil || h.f.Challenge(secretHash("c1")) != nil || h.view().Pair(1, []byte("dave@umkc.edu")) != nil {
		t.Fatal("rolled-back batch left a challenge or pair")
	}
	if challengeBytes(h.f) != before || h.view().Counts() != counts {
		t.Fatal("rolled-back batch changed the state")
	}
	// Its rate windows were not counted either: the same open passes.
	h.ok(command.ChallengeOpen, limited)
}

// challengeBytes is the published challenge state in its snapshot encoding.
func challengeBytes(f *FSM) string {
	var buf bytes.Buffer
	sw := &snapWriter{w: bufio.NewWriter(&buf), crc: crc32.New(castagnoli)}
	cs := f.chal.Load()
	chs, sups, wins := cs.sorted()
	sw.challengeRecords(cs, chs, sups, wins)
	if err := sw.w.Flush(); err != nil || sw.err != nil {
		panic("encoding to memory failed")
	}
	return buf.String()
}

// randomChallengeCommand is a challenge command over a small universe of
// IDs (each ID's token is secretHash of it), for randomLog: opens that
// conflict, hit limits and expire, and confirms, reports and sends that
// find their challenge or not.
func randomChallengeCommand(rng *rand.Rand, ip func() string) (command.Type, any) {
	id := fmt.Sprintf("c%d", rng.IntN(40))
	switch rng.IntN(5) {
	case 0, 1:
		b := chOpen(id, fmt.Sprintf("u%d@d%d.example", rng.IntN(20), rng.IntN(4)), ip())
		if rng.IntN(4) == 0 {
			b.Kind, b.Domain, b.Sender = "verp", fmt.Sprintf("l%d.example", rng.IntN(5)), "postmaster@l.example"
		}
		b.RequireRegistered = rng.IntN(3) == 0
		b.TTL = 600 + int64(rng.IntN(200_000))
		b.Limits = command.ChallengeLimits{Window: 3600, PerSender: 3, PerDomain: 8, PerEntity: 12}
		if rng.IntN(2) == 0 {
			b.Limits.PerDomainRelay, b.Limits.Sliding = 4, true
		}
		return command.ChallengeOpen, b
	case 2:
		return command.ChallengeConfirm, chConfirm(id, []string{"link", "reply"}[rng.IntN(2)])
	case 3:
		if rng.IntN(2) == 0 {
			return command.ChallengeReport, chReport(id, "list", 0)
		}
		return command.ChallengeReport, chReport(id, "forgery", int64(rng.IntN(20000)))
	default:
		return command.ChallengeSent, command.ChallengeSentBody{ID: id, Error: []string{"", "421 busy"}[rng.IntN(2)]}
	}
}

// TestFSM_ChallengeReadersSeeConfirmedPairs reads challenges on another
// goroutine while they are opened and confirmed: a reader that sees a
// challenge confirmed also sees its pair (the index is published first),
// and no read races with the writer (run with -race).
func TestFSM_ChallengeReadersSeeConfirmedPairs(t *testing.T) {
	h := chHarness(t)
	const n = 300
	done := make(chan struct{})
	errs := make(chan string, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			var bad string
			h.f.Challenges(func(c *record.Challenge) bool {
				switch {
				case c.State == record.ChallengeConfirmed && h.f.Index().Load().Pair(c.Entity, []byte(c.Sender)) == nil:
					bad = "confirmed challenge " + c.ID + " without its pair"
				case h.f.Challenge(c.TokenHash) == nil:
					bad = "challenge " + c.ID + " not found by its token"
				}
				return bad == ""
			})
			if bad != "" {
				errs <- bad
				return
			}
		}
	}()
	for i := range n {
		id := fmt.Sprintf("r%d", i)
		h.ok(command.ChallengeOpen, chOpen(id, fmt.Sprintf("u%d@x.example", i), "192.0.2.5"))
		h.ok(command.ChallengeConfirm, chConfirm(id, "link"))
	}
	close(done)
	if msg, ok := <-errs; ok {
		t.Fatal(msg)
	}
	if h.f.ChallengeCount() != n || h.view().Counts().Pairs != n+1 {
		t.Fatalf("%d challenges, %d pairs", h.f.ChallengeCount(), h.view().Counts().Pairs)
	}
}

func TestFSM_OpenChallengeFindsTheOpenOneOnly(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	h.ok(command.ChallengeOpen, chVerp("v1", "lists.example.org", "192.0.2.5"))
	if c := h.f.OpenChallenge(record.ChallengePair, "dave@umkc.edu", "", 1); c == nil || c.ID != "c1" {
		t.Fatalf("pair: %+v", c)
	}
	if c := h.f.OpenChallenge(record.ChallengeVerp, "postmaster@lists.example.org", "lists.example.org", 1); c == nil || c.ID != "v1" {
		t.Fatalf("verp: %+v", c)
	}
	if h.f.OpenChallenge(record.ChallengePair, "dave@umkc.edu", "", 2) != nil || h.f.OpenChallenge(record.ChallengeVerp, "dave@umkc.edu", "", 1) != nil {
		t.Fatal("found for another entity or kind")
	}
	h.ok(command.ChallengeConfirm, chConfirm("c1", "link"))
	if h.f.OpenChallenge(record.ChallengePair, "dave@umkc.edu", "", 1) != nil {
		t.Fatal("a confirmed challenge is still found open")
	}
}

// normalIP is the canonical form of an address, "" for none.
func normalIP(s string) string {
	if s == "" {
		return ""
	}
	return addr(s).String()
}

// RateCounts shows what each limit counts at a time, as the state machine
// would count it: a fixed window only within it, a sliding one fading.
func TestFSM_RateCountsAsTheLimitsCount(t *testing.T) {
	h := chHarness(t)
	start := (h.now/3600 + 1) * 3600
	h.now = start
	fixed := chOpen("f", "a@x.example", "192.0.2.1")
	fixed.Limits = command.ChallengeLimits{Window: 3600, PerSender: 5}
	h.ok(command.ChallengeOpen, fixed)
	sliding := chOpen("s", "b@x.example", "198.51.100.7")
	sliding.Limits = command.ChallengeLimits{Window: 3600, PerDomainRelay: 5, Sliding: true}
	h.ok(command.ChallengeOpen, sliding)
	counts := func(at int64) map[string]int {
		got := map[string]int{}
		h.f.RateCounts(at, func(rc record.RateCount) bool {
			got[fmt.Sprint(rc.Limit, " ", rc.Sender, rc.Domain, " ", rc.Entity, " ", rc.Window, " ", rc.Sliding)] = rc.Count
			return true
		})
		return got
	}
	want := map[string]int{"sender a@x.example 0 3600 false": 1, "domain_relay x.example 2 3600 true": 1}
	if got := counts(start + 10); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("at once: %v, want %v", got, want)
	}
	// In the next hour the fixed window counts nothing; the sliding one
	// still counts its previous bucket, rounded up.
	if got := counts(start + 3600 + 1800); fmt.Sprint(got) != fmt.Sprint(map[string]int{"domain_relay x.example 2 3600 true": 1}) {
		t.Fatalf("next hour: %v", got)
	}
	if got := counts(start + 7200); len(got) != 0 {
		t.Fatalf("two hours on: %v", got)
	}
}

// A confirmed challenge stops counting against its sliding limits (a
// relay whose newcomers confirm never runs out; forged senders, who never
// confirm, keep counting); fixed windows, the version-3 meaning, keep it.
func TestFSM_ConfirmedChallengesAreRefunded(t *testing.T) {
	for _, sliding := range []bool{true, false} {
		h := chHarness(t)
		open := func(id, sender string) command.Result {
			b := chOpen(id, sender, "198.51.100.7")
			b.Limits = command.ChallengeLimits{Window: 86400, PerEntity: 2, PerDomainRelay: 2, Sliding: sliding}
			return h.do(command.ChallengeOpen, b)
		}
		for _, s := range []string{"a", "b"} {
			if r := open(s, s+"@x.example"); r.Err != nil {
				t.Fatal(r.Err)
			}
			h.now += 60
			h.ok(command.ChallengeConfirm, chConfirm(s, "link"))
		}
		r := open("c", "c@x.example")
		if sliding && r.Err != nil {
			t.Fatalf("sliding: a third open after two confirmations: %v", r.Err)
		}
		if !sliding {
			wantRejected(t, r, command.Limited, "x.example")
			continue
		}
		// Unconfirmed ones count: forged senders exhaust the relay, and a
		// forgery report gives nothing back.
		h.now += 60
		if r := open("d", "d@y.example"); r.Err != nil {
			t.Fatal(r.Err)
		}
		wantRejected(t, open("e", "e@z.example"), command.Limited, "per relay entity")
		h.ok(command.ChallengeReport, chReport("c", "forgery", 0))
		wantRejected(t, open("e", "e@z.example"), command.Limited, "per relay entity")
	}
}
