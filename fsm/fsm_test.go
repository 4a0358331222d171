package fsm

import (
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// step is one command of a table case.
type step struct {
	typ  command.Type
	body any
}

// fsmCase sets up state, applies cmd and checks the rejection code (empty
// for success) and, when given, what a user would see afterwards.
type fsmCase struct {
	name  string
	setup []step
	cmd   step
	code  command.Code
	check func(t *testing.T, v *index.View, r command.Result)
}

func runCases(t *testing.T, cases []fsmCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			for _, s := range c.setup {
				h.ok(s.typ, s.body)
			}
			before := h.view().Counts()
			h.now += 60
			r := h.do(c.cmd.typ, c.cmd.body)
			switch {
			case c.code == "" && r.Err != nil:
				t.Fatalf("rejected: %v", r.Err)
			case c.code != "" && r.Err == nil:
				t.Fatalf("applied, want %s rejection", c.code)
			case c.code != "" && r.Err.Code != c.code:
				t.Fatalf("rejected with %v, want %s", r.Err, c.code)
			case c.code != "" && h.view().Counts() != before:
				t.Fatalf("rejected command changed counts: %+v -> %+v", before, h.view().Counts())
			}
			if c.check != nil {
				c.check(t, h.view(), r)
			}
		})
	}
}

var (
	groupA  = step{command.EntityPut, command.EntityBody{Name: "Relays-A", Group: true, Prefixes: []string{"192.0.2.0/24", "2001:db8::/48"}}}
	loneB   = step{command.EntityPut, command.EntityBody{Prefixes: []string{"198.51.100.7"}, Registered: true, Contact: "pm@b.example"}}
	pairA   = step{command.PairPut, command.PairBody{Sender: "Dave@UMKC.edu", IP: "192.0.2.10", By: "api", Method: "link"}}
	verpA   = step{command.VerpPut, command.VerpBody{Domain: "lists.example.org", Entity: 1}}
	tokAdm  = step{command.TokenPut, command.TokenBody{Name: "ops", Hash: secretHash("s1"), Role: "admin"}}
	t0Later = int64(t0 + 60)
)

func TestFSM_EntityPut(t *testing.T) {
	runCases(t, []fsmCase{
		{name: "creates a group", cmd: groupA, check: func(t *testing.T, v *index.View, r command.Result) {
			e := v.Entity(r.ID)
			if r.ID != 1 || !r.Created || e == nil || e.Name != "Relays-A" || len(e.Prefixes) != 2 {
				t.Fatalf("result %+v, entity %+v", r, e)
			}
			if entityIDOf(v, "192.0.2.99") != 1 || entityIDOf(v, "2001:db8::5") != 1 {
				t.Fatal("member addresses do not resolve to the group")
			}
		}},
		{name: "creates a lone relay with a normalised address", cmd: step{command.EntityPut, command.EntityBody{Prefixes: []string{" ::ffff:192.0.2.1 "}}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if got := v.Entity(r.ID).Prefixes[0].String(); got != "192.0.2.1/32" {
					t.Fatalf("prefix %s, want 192.0.2.1/32", got)
				}
			}},
		{name: "group without name", cmd: step{command.EntityPut, command.EntityBody{Group: true}}, code: command.Invalid},
		{name: "lone relay with a name", cmd: step{command.EntityPut, command.EntityBody{Name: "x", Prefixes: []string{"192.0.2.1"}}}, code: command.Invalid},
		{name: "lone relay with two addresses", cmd: step{command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.1", "192.0.2.2"}}}, code: command.Invalid},
		{name: "bad prefix", cmd: step{command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.300"}}}, code: command.Invalid},
		{name: "bad ptr", cmd: step{command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.3"}, PTR: "a b"}}, code: command.Invalid},
		{name: "group name taken, any case", setup: []step{groupA},
			cmd: step{command.EntityPut, command.EntityBody{Name: "RELAYS-a", Group: true}}, code: command.Conflict},
		{name: "prefix owned by another entity", setup: []step{groupA},
			cmd: step{command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.0/24"}}}, code: command.Conflict},
		{name: "narrower prefix inside another entity's is allowed", setup: []step{groupA},
			cmd: step{command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.128/25"}}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if entityIDOf(v, "192.0.2.200") != r.ID || entityIDOf(v, "192.0.2.1") != 1 {
					t.Fatal("longest-prefix match does not pick the narrower entity")
				}
			}},
		{name: "replace of a missing ID", cmd: step{command.EntityPut, command.EntityBody{ID: 9, Prefixes: []string{"192.0.2.1"}}}, code: command.NotFound},
		{name: "replace keeps Created and frees dropped prefixes", setup: []step{groupA},
			cmd: step{command.EntityPut, command.EntityBody{ID: 1, Name: "Renamed", Group: true, Prefixes: []string{"192.0.2.0/24"}, Pinned: true}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				e := v.Entity(1)
				if r.Created || e.Created != t0 || e.Updated != t0Later || !e.Pinned || e.Name != "Renamed" {
					t.Fatalf("result %+v entity %+v", r, e)
				}
				if entityIDOf(v, "2001:db8::5") != 0 {
					t.Fatal("dropped prefix still resolves")
				}
			}},
		{name: "renaming frees the old name", setup: []step{groupA,
			{command.EntityPut, command.EntityBody{ID: 1, Name: "B", Group: true}}},
			cmd: step{command.EntityPut, command.EntityBody{Name: "relays-a", Group: true}}},
	})
}

func TestFSM_EntityDelete(t *testing.T) {
	runCases(t, []fsmCase{
		{name: "missing", cmd: step{command.EntityDelete, command.EntityBody{ID: 4}}, code: command.NotFound},
		{name: "removes its pairs and VERP sources only", setup: []step{groupA, loneB, pairA, verpA,
			{command.PairPut, command.PairBody{Sender: "x@y.example", Entity: 2}}},
			cmd: step{command.EntityDelete, command.EntityBody{ID: 1}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				c := v.Counts()
				if v.Entity(1) != nil || entityIDOf(v, "192.0.2.10") != 0 || c.Entities != 1 || c.Pairs != 1 || c.VerpSources != 0 {
					t.Fatalf("after delete: counts %+v", c)
				}
				if v.Pair(2, []byte("x@y.example")) == nil {
					t.Fatal("other entity's pair was deleted")
				}
			}},
		{name: "frees the group name", setup: []step{groupA, {command.EntityDelete, command.EntityBody{ID: 1}}},
			cmd: step{command.EntityPut, command.EntityBody{Name: "Relays-A", Group: true}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if r.ID != 2 {
					t.Fatalf("new entity got ID %d; IDs must not be reused", r.ID)
				}
			}},
	})
}

func TestFSM_Members(t *testing.T) {
	runCases(t, []fsmCase{
		{name: "add moves addresses into the group", setup: []step{groupA},
			cmd: step{command.MembersAdd, command.MembersBody{Entity: 1, Prefixes: []string{"203.0.113.5", "192.0.2.0/24"}}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if entityIDOf(v, "203.0.113.5") != 1 || len(v.Entity(1).Prefixes) != 3 {
					t.Fatalf("members %v", v.Entity(1).Prefixes)
				}
			}},
		{name: "add to a lone relay", setup: []step{loneB},
			cmd: step{command.MembersAdd, command.MembersBody{Entity: 1, Prefixes: []string{"203.0.113.5"}}}, code: command.Invalid},
		{name: "add a prefix owned elsewhere", setup: []step{groupA, loneB},
			cmd: step{command.MembersAdd, command.MembersBody{Entity: 1, Prefixes: []string{"198.51.100.7"}}}, code: command.Conflict},
		{name: "add to a missing entity", cmd: step{command.MembersAdd, command.MembersBody{Entity: 3, Prefixes: []string{"203.0.113.5"}}}, code: command.NotFound},
		{name: "add nothing", setup: []step{groupA}, cmd: step{command.MembersAdd, command.MembersBody{Entity: 1}}, code: command.Invalid},
		{name: "remove changes EntityOf", setup: []step{groupA,
			{command.EntityPut, command.EntityBody{Name: "wide", Group: true, Prefixes: []string{"192.0.0.0/16"}}}},
			cmd: step{command.MembersRemove, command.MembersBody{Entity: 1, Prefixes: []string{"192.0.2.0/24"}}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if got := entityIDOf(v, "192.0.2.10"); got != 2 {
					t.Fatalf("192.0.2.10 resolves to %d, want the /16 group 2", got)
				}
			}},
		{name: "remove a non-member", setup: []step{groupA},
			cmd: step{command.MembersRemove, command.MembersBody{Entity: 1, Prefixes: []string{"10.0.0.1"}}}, code: command.NotFound},
		{name: "remove the last address of a lone relay", setup: []step{loneB},
			cmd: step{command.MembersRemove, command.MembersBody{Entity: 1, Prefixes: []string{"198.51.100.7"}}}, code: command.Invalid},
		{name: "a group may be emptied", setup: []step{groupA},
			cmd: step{command.MembersRemove, command.MembersBody{Entity: 1, Prefixes: []string{"192.0.2.0/24", "2001:db8::/48"}}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if v.Entity(1) == nil || len(v.Entity(1).Prefixes) != 0 || entityIDOf(v, "192.0.2.1") != 0 {
					t.Fatal("group not emptied")
				}
			}},
	})
}

func TestFSM_Pairs(t *testing.T) {
	runCases(t, []fsmCase{
		{name: "unknown IP gets an unregistered lone entity", cmd: pairA,
			check: func(t *testing.T, v *index.View, r command.Result) {
				e := v.Entity(r.ID)
				if !r.Created || e == nil || e.Registered || e.Group || e.Prefixes[0].String() != "192.0.2.10/32" {
					t.Fatalf("result %+v entity %+v", r, e)
				}
				if p := v.Pair(r.ID, []byte("dave@umkc.edu")); p == nil || p.Created != t0Later || p.By != "api" {
					t.Fatalf("pair %+v", p)
				}
			}},
		{name: "pair via one member holds for every member", setup: []step{groupA}, cmd: pairA,
			check: func(t *testing.T, v *index.View, r command.Result) {
				other := v.EntityOf(addr("2001:db8::77"))
				if r.ID != 1 || other == nil || v.Pair(other.ID, []byte("dave@umkc.edu")) == nil {
					t.Fatal("pair not visible through another member of the group")
				}
			}},
		{name: "refresh keeps Created and By, updates Updated and pin", setup: []step{groupA, pairA},
			cmd: step{command.PairPut, command.PairBody{Sender: "dave@umkc.edu", Entity: 1, By: "other", Pinned: true}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				p := v.Pair(1, []byte("dave@umkc.edu"))
				if r.Created || p.Created != t0 || p.Updated != t0Later || p.By != "api" || !p.Pinned || v.Counts().Pairs != 1 {
					t.Fatalf("result %+v pair %+v", r, p)
				}
			}},
		{name: "domain-wide pair", setup: []step{groupA},
			cmd: step{command.PairPut, command.PairBody{Sender: "@UMKC.edu", Entity: 1}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if v.Pair(1, []byte("umkc.edu")) == nil || v.Counts().DomainPairs != 1 {
					t.Fatal("domain pair missing")
				}
			}},
		{name: "hashed lookup finds the pair", setup: []step{groupA}, cmd: pairA,
			check: func(t *testing.T, v *index.View, r command.Result) {
				sum := sha256Sum("dave@umkc.edu")
				if v.PairByHash(1, &sum) == nil {
					t.Fatal("PairByHash misses")
				}
			}},
		// a@@b is now the unquoted form of "a@"@b, as Postfix hands it over;
		// a control character is still no address.
		{name: "bad sender", cmd: step{command.PairPut, command.PairBody{Sender: "a\x01b@b.example", IP: "192.0.2.1"}}, code: command.Invalid},
		{name: "sender over 254 octets", cmd: step{command.PairPut, command.PairBody{Sender: strings.Repeat("a", 64) + "@" + strings.Repeat("b.", 95) + "example", IP: "192.0.2.1"}}, code: command.Invalid},
		{name: "entity and ip", setup: []step{groupA}, cmd: step{command.PairPut, command.PairBody{Sender: "a@b.example", Entity: 1, IP: "192.0.2.1"}}, code: command.Invalid},
		{name: "neither entity nor ip", cmd: step{command.PairPut, command.PairBody{Sender: "a@b.example"}}, code: command.Invalid},
		{name: "prefix as ip", cmd: step{command.PairPut, command.PairBody{Sender: "a@b.example", IP: "192.0.2.0/24"}}, code: command.Invalid},
		{name: "missing entity", cmd: step{command.PairPut, command.PairBody{Sender: "a@b.example", Entity: 7}}, code: command.NotFound},
		{name: "delete", setup: []step{groupA, pairA},
			cmd: step{command.PairDelete, command.PairBody{Sender: "DAVE@umkc.edu", IP: "2001:db8::1"}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if v.Pair(1, []byte("dave@umkc.edu")) != nil || v.Counts().Pairs != 0 {
					t.Fatal("pair still there")
				}
			}},
		{name: "delete missing pair", setup: []step{groupA}, cmd: step{command.PairDelete, command.PairBody{Sender: "x@y.example", Entity: 1}}, code: command.NotFound},
		{name: "delete via unknown ip creates nothing", cmd: step{command.PairDelete, command.PairBody{Sender: "x@y.example", IP: "192.0.2.1"}}, code: command.NotFound},
	})
}

func TestFSM_Verps(t *testing.T) {
	runCases(t, []fsmCase{
		{name: "put by entity", setup: []step{groupA}, cmd: verpA,
			check: func(t *testing.T, v *index.View, r command.Result) {
				if vp := v.Verp(1, []byte("lists.example.org")); !r.Created || vp == nil || vp.Created != t0Later {
					t.Fatalf("verp %+v", vp)
				}
			}},
		{name: "put by unknown ip creates an entity", cmd: step{command.VerpPut, command.VerpBody{Domain: "Lists.Example.ORG.", IP: "203.0.113.9"}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if entityIDOf(v, "203.0.113.9") != r.ID || v.Verp(r.ID, []byte("lists.example.org")) == nil {
					t.Fatal("verp or entity missing")
				}
			}},
		{name: "refresh", setup: []step{groupA, verpA}, cmd: verpA,
			check: func(t *testing.T, v *index.View, r command.Result) {
				if vp := v.Verp(1, []byte("lists.example.org")); r.Created || vp.Created != t0 || vp.Updated != t0Later {
					t.Fatalf("result %+v verp %+v", r, vp)
				}
			}},
		{name: "bad domain", setup: []step{groupA}, cmd: step{command.VerpPut, command.VerpBody{Domain: "a..b", Entity: 1}}, code: command.Invalid},
		{name: "delete", setup: []step{groupA, verpA}, cmd: step{command.VerpDelete, command.VerpBody{Domain: "lists.example.org", IP: "192.0.2.1"}},
			check: func(t *testing.T, v *index.View, r command.Result) {
				if v.Counts().VerpSources != 0 {
					t.Fatal("verp still there")
				}
			}},
		{name: "delete missing", setup: []step{groupA}, cmd: step{command.VerpDelete, command.VerpBody{Domain: "x.example", Entity: 1}}, code: command.NotFound},
	})
}

func TestFSM_UnknownTypeAndBadBody(t *testing.T) {
	h := newHarness(t)
	if r := h.do("frobnicate", struct{}{}); r.Err == nil || r.Err.Code != command.Invalid {
		t.Fatalf("unknown type: %+v", r)
	}
	e := env(t, command.PairPut, t0, "", nil)
	e.Body = []byte(`{"sender": 5}`)
	if r := h.apply(e)[0]; r.Err == nil || r.Err.Code != command.Invalid {
		t.Fatalf("bad body: %+v", r)
	}
}

func TestFSM_UndecodableEntryPanics(t *testing.T) {
	for name, data := range map[string]string{
		"not json":      "{",
		"newer version": `{"v": 99, "type": "pair.put", "time": 1, "body": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			defer func() {
				p := recover()
				if msg, _ := p.(string); !strings.HasPrefix(msg, "fsm: cannot apply raft log entry 1 ") {
					t.Fatalf("panic %v, want one saying the fsm cannot apply entry 1", p)
				}
			}()
			l := h.logs(env(t, command.PairPut, t0, "", command.PairBody{}))
			l[0].Data = []byte(data)
			h.f.ApplyEntries(l)
		})
	}
}

// A kind registered twice is a programming error the panic names in the
// package's own words.
func TestKinds_RegisteringTwicePanicsNamingTheFSM(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "fsm: kind \"pair.put\" registered twice") {
			t.Fatalf("panic %q, want one prefixed fsm:", msg)
		}
	}()
	registerKind(command.PairPut, kind{apply: notInBatch("x")})
}

func TestFSM_SerialIsLastIndexOfBatch(t *testing.T) {
	h := newHarness(t)
	v0 := h.view()
	h.apply(env(t, groupA.typ, t0, "", groupA.body), env(t, pairA.typ, t0, "", pairA.body), env(t, loneB.typ, t0, "", loneB.body))
	if got := h.view().Serial(); got != 3 {
		t.Fatalf("serial %d, want 3", got)
	}
	if v0.Counts().Entities != 0 {
		t.Fatal("an old view changed")
	}
}
