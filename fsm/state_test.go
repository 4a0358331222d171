package fsm

import (
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func TestFSM_Tokens(t *testing.T) {
	pm := step{command.TokenPut, command.TokenBody{Name: "pm", Hash: secretHash("s2"), Role: "postmaster", Prefixes: []string{"192.0.2.0/24"}}}
	cases := []struct {
		name  string
		setup []step
		cmd   step
		code  command.Code
		check func(t *testing.T, f *FSM, r command.Result)
	}{
		{name: "put", cmd: tokAdm, check: func(t *testing.T, f *FSM, r command.Result) {
			tok := f.Token(secretHash("s1"))
			if !r.Created || tok == nil || tok.Name != "ops" || tok.Role != record.RoleAdmin || tok.Created != t0Later {
				t.Fatalf("result %+v token %+v", r, tok)
			}
		}},
		{name: "postmaster with prefixes", cmd: pm, check: func(t *testing.T, f *FSM, r command.Result) {
			if tok := f.Token(secretHash("s2")); tok == nil || tok.Prefixes[0].String() != "192.0.2.0/24" {
				t.Fatalf("token %+v", tok)
			}
		}},
		{name: "replace rotates the secret and keeps Created", setup: []step{tokAdm},
			cmd: step{command.TokenPut, command.TokenBody{Name: "ops", Hash: secretHash("s3"), Role: "read"}},
			check: func(t *testing.T, f *FSM, r command.Result) {
				tok := f.Token(secretHash("s3"))
				if r.Created || f.Token(secretHash("s1")) != nil || tok == nil || tok.Created != t0 || tok.Role != record.RoleRead {
					t.Fatalf("result %+v token %+v", r, tok)
				}
			}},
		{name: "bad hash", cmd: step{command.TokenPut, command.TokenBody{Name: "x", Hash: "abc", Role: "admin"}}, code: command.Invalid},
		{name: "bad role", cmd: step{command.TokenPut, command.TokenBody{Name: "x", Hash: secretHash("a"), Role: "root"}}, code: command.Invalid},
		{name: "no name", cmd: step{command.TokenPut, command.TokenBody{Hash: secretHash("a"), Role: "admin"}}, code: command.Invalid},
		{name: "mta role", cmd: step{command.TokenPut, command.TokenBody{Name: "mx", Hash: secretHash("m"), Role: "mta"}},
			check: func(t *testing.T, f *FSM, r command.Result) {
				if tok := f.Token(secretHash("m")); tok == nil || tok.Role != record.RoleMTA {
					t.Fatalf("mta token not stored: %+v", tok)
				}
			}},
		{name: "mta with prefixes", cmd: step{command.TokenPut, command.TokenBody{Name: "x", Hash: secretHash("a"), Role: "mta", Prefixes: []string{"10.0.0.0/8"}}}, code: command.Invalid},
		{name: "postmaster without prefixes", cmd: step{command.TokenPut, command.TokenBody{Name: "x", Hash: secretHash("a"), Role: "postmaster"}}, code: command.Invalid},
		{name: "admin with prefixes", cmd: step{command.TokenPut, command.TokenBody{Name: "x", Hash: secretHash("a"), Role: "admin", Prefixes: []string{"10.0.0.0/8"}}}, code: command.Invalid},
		{name: "same secret as another token", setup: []step{tokAdm},
			cmd: step{command.TokenPut, command.TokenBody{Name: "other", Hash: secretHash("s1"), Role: "read"}}, code: command.Conflict},
		{name: "delete", setup: []step{tokAdm, pm}, cmd: step{command.TokenDelete, command.TokenBody{Name: "ops"}},
			check: func(t *testing.T, f *FSM, r command.Result) {
				if f.Token(secretHash("s1")) != nil || len(f.Tokens()) != 1 || f.Tokens()[0].Name != "pm" {
					t.Fatal("token not revoked")
				}
			}},
		{name: "delete missing", cmd: step{command.TokenDelete, command.TokenBody{Name: "ops"}}, code: command.NotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			for _, s := range c.setup {
				h.ok(s.typ, s.body)
			}
			h.now += 60
			r := h.do(c.cmd.typ, c.cmd.body)
			if (r.Err == nil) != (c.code == "") || (r.Err != nil && r.Err.Code != c.code) {
				t.Fatalf("result %+v, want code %q", r, c.code)
			}
			if c.check != nil {
				c.check(t, h.f, r)
			}
		})
	}
}

func TestFSM_BatchAllOrNothing(t *testing.T) {
	h := newHarness(t)
	h.ok(groupA.typ, groupA.body)
	h.ok(tokAdm.typ, tokAdm.body)
	before := h.view()
	bad := command.BatchBody{Commands: []command.Envelope{
		*env(t, command.PairPut, 0, "", command.PairBody{Sender: "a@x.example", IP: "203.0.113.1"}),
		*env(t, command.EntityPut, 0, "", command.EntityBody{Name: "new", Group: true}),
		*env(t, command.TokenDelete, 0, "", command.TokenBody{Name: "ops"}),
		*env(t, command.EntityPut, 0, "", command.EntityBody{Prefixes: []string{"192.0.2.0/24"}}), // owned by group 1
		*env(t, command.PairPut, 0, "", command.PairBody{Sender: "b@x.example", Entity: 1}),
	}}
	r := h.do(command.Batch, bad)
	if r.Err == nil || r.Err.Code != command.Conflict || r.Err.Index != 3 || len(r.Results) != 4 {
		t.Fatalf("result %+v", r)
	}
	v := h.view()
	if v.Counts() != before.Counts() || entityIDOf(v, "203.0.113.1") != 0 || h.f.Token(secretHash("s1")) == nil {
		t.Fatalf("failed batch left changes: %+v", v.Counts())
	}
	// IDs handed out inside the failed batch are handed out again.
	good := command.BatchBody{Commands: []command.Envelope{
		*env(t, command.PairPut, 0, "", command.PairBody{Sender: "a@x.example", IP: "203.0.113.1"}),
		*env(t, command.PairPut, 0, "", command.PairBody{Sender: "b@x.example", IP: "203.0.113.1"}),
		*env(t, command.EntityPut, 0, "", command.EntityBody{Name: "new", Group: true}),
		*env(t, command.TokenDelete, 0, "", command.TokenBody{Name: "ops"}),
	}}
	h.now += 5
	r = h.do(command.Batch, good)
	if r.Err != nil || len(r.Results) != 4 || r.Results[0].ID != 2 || !r.Results[1].Created || r.Results[1].ID != 2 || r.Results[2].ID != 3 {
		t.Fatalf("result %+v", r)
	}
	v = h.view()
	if p := v.Pair(2, []byte("b@x.example")); p == nil || p.Created != h.now || h.f.Token(secretHash("s1")) != nil {
		t.Fatalf("batch did not apply with the batch's time: %+v", p)
	}
}

func TestFSM_BatchRejectsNestingAndEmpty(t *testing.T) {
	h := newHarness(t)
	inner := env(t, command.Batch, 0, "", command.BatchBody{Commands: []command.Envelope{*env(t, groupA.typ, 0, "", groupA.body)}})
	for name, body := range map[string]command.BatchBody{
		"nested": {Commands: []command.Envelope{*env(t, loneB.typ, 0, "", loneB.body), *inner}},
		"empty":  {},
	} {
		if r := h.do(command.Batch, body); r.Err == nil || r.Err.Code != command.Invalid {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if h.view().Counts().Entities != 0 {
		t.Fatal("rejected batch applied something")
	}
}

func TestFSM_DedupByReqID(t *testing.T) {
	h := newHarness(t)
	create := func(now int64, req string) command.Result {
		return h.apply(env(t, command.EntityPut, now, req, command.EntityBody{Name: "g" + req + string(rune('a'+now%26)), Group: true}))[0]
	}
	if r := create(t0, "r1"); r.Duplicate || r.ID != 1 {
		t.Fatalf("first: %+v", r)
	}
	if r := create(t0+100, "r1"); !r.Duplicate {
		t.Fatalf("retry applied again: %+v", r)
	}
	if h.view().Counts().Entities != 1 {
		t.Fatal("duplicate created an entity")
	}
	// A rejected command is not remembered: a corrected retry applies.
	if r := h.apply(env(t, command.PairDelete, t0, "r2", command.PairBody{Sender: "a@b.example", Entity: 1}))[0]; r.Err == nil {
		t.Fatal("delete of a missing pair applied")
	}
	if r := h.apply(env(t, command.PairPut, t0, "r2", command.PairBody{Sender: "a@b.example", Entity: 1}))[0]; r.Duplicate || r.Err != nil {
		t.Fatalf("retry after rejection: %+v", r)
	}
	// A day of command time later the ID is forgotten.
	if r := create(t0+dedupWindow+101, "r1"); r.Duplicate || r.Err != nil {
		t.Fatalf("after the window: %+v", r)
	}
}

func TestFSM_DedupWindowIsBoundedByCount(t *testing.T) {
	h := newHarness(t)
	h.f.dd.cap = 3
	for i, req := range []string{"a", "b", "c", "d"} {
		h.apply(env(t, command.EntityPut, t0, req, command.EntityBody{Prefixes: []string{"10.0.0." + string(rune('1'+i))}}))
	}
	if len(h.f.dd.entries()) != 3 {
		t.Fatalf("window holds %d", len(h.f.dd.entries()))
	}
	r := h.apply(env(t, command.EntityPut, t0, "a", command.EntityBody{Prefixes: []string{"10.0.0.9"}}))[0]
	if r.Duplicate {
		t.Fatal("oldest ID still remembered past the cap")
	}
	r = h.apply(env(t, command.EntityPut, t0, "d", command.EntityBody{Prefixes: []string{"10.0.0.8"}}))[0]
	if !r.Duplicate {
		t.Fatal("recent ID forgotten")
	}
}
