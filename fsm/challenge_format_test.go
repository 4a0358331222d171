package fsm

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// restoreUpgraded restores the snapshot an older build wrote to file and
// fails unless this build persists it in the current format (5) holding the same
// records, which restores and persists back byte for byte: the upgrade in
// place.
func restoreUpgraded(t *testing.T, file string) *FSM {
	t.Helper()
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFSM(nil, nil)
	if _, err := f.Restore(io.NopCloser(bytes.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	got := persist(t, f)
	if got[len(snapMagic)] != snapVersion || old[len(snapMagic)] >= snapVersion {
		t.Fatalf("%s (format %d) re-persisted as format %d, want %d", file, old[len(snapMagic)], got[len(snapMagic)], snapVersion)
	}
	g := NewFSM(nil, nil)
	if _, err := g.Restore(io.NopCloser(bytes.NewReader(got))); err != nil {
		t.Fatal(err)
	}
	if again := persist(t, g); !bytes.Equal(again, got) {
		t.Fatal("the rewritten snapshot does not persist back byte for byte")
	}
	if records(f) != records(g) || f.Index().Load().Counts() != g.Index().Load().Counts() {
		t.Fatalf("the rewritten snapshot holds other records:\n%s\nwant\n%s", records(g), records(f))
	}
	return f
}

// records lists an FSM's entities, pairs and VERP sources, sorted, for
// comparing.
func records(f *FSM) string {
	var out []string
	v := f.Index().Load()
	v.Entities(func(e *record.Entity) bool {
		out = append(out, fmt.Sprintf("entity %d %q %t %v %t %q %q %t %d %d %d", e.ID, e.Name, e.Group, e.Prefixes, e.Registered,
			e.Contact, e.PTR, e.Pinned, e.Created, e.Updated, e.LastQueried))
		return true
	})
	line := func(kind string, ent uint64, key, by, method string, m *record.Meta) string {
		return fmt.Sprintf("%s %d %q %q %q %t %d %d %d", kind, ent, key, by, method, m.Pinned, m.Created, m.Updated, m.LastQueried)
	}
	v.Pairs(func(p *record.Pair) bool {
		out = append(out, line("pair", p.Entity, p.Sender, p.By, p.Method, &p.Meta))
		return true
	})
	v.Verps(func(p *record.Verp) bool {
		out = append(out, line("verp", p.Entity, p.Domain, p.By, p.Method, &p.Meta))
		return true
	})
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func TestSnapshot_EveryStateIsWrittenInTheCurrentFormat(t *testing.T) {
	mta := command.TokenBody{Name: "postfix", Hash: secretHash("p"), Role: "mta"}
	cases := []struct {
		name  string
		steps []step
	}{
		{"nothing", nil},
		{"records and tokens only", []step{{command.TokenPut, command.TokenBody{Name: "ops", Hash: secretHash("o"), Role: "admin"}}}},
		{"an open challenge", []step{{command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5")}}},
		{"an mta token", []step{{command.TokenPut, mta}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := chHarness(t)
			for _, s := range c.steps {
				h.ok(s.typ, s.body)
			}
			snap := persist(t, h.f)
			if got := snap[len(snapMagic)]; got != snapVersion {
				t.Fatalf("written as format %d, want %d", got, snapVersion)
			}
			r := NewFSM(nil, nil)
			if _, err := r.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(persist(t, r), snap) {
				t.Fatal("restored state persists differently")
			}
		})
	}
}

// testdata/snapshot-v4.bin was written by the snapshot code before the
// flat tables (format 4, zone records): group Relays (198.51.100.0/24,
// 2001:db8::/64) with dave@umkc.edu, a lone 192.0.2.1 with domain pair
// example.net and VERP source lists.example.com, zone records ns1 A and
// @ TXT.
func TestSnapshot_RestoresFormat4(t *testing.T) {
	f := restoreUpgraded(t, "testdata/snapshot-v4.bin")
	v := f.Index().Load()
	lone := entityIDOf(v, "192.0.2.1")
	if v.Pair(entityIDOf(v, "198.51.100.9"), []byte("dave@umkc.edu")) == nil || v.Pair(lone, []byte("example.net")) == nil ||
		v.Verp(lone, []byte("lists.example.com")) == nil {
		t.Fatal("a pair or the VERP source is missing")
	}
	if got := zoneRecordStrings(f); got != "@ TXT 0 \"v=spf1 -all\"\nns1 A 6 192.0.2.53\n" { // TTL in hundreds of seconds
		t.Fatalf("zone records:\n%s", got)
	}
}

// testdata/snapshot-v5.bin was written by the snapshot code before the
// entities' flat parts (format 5): group Relays (198.51.100.0/24,
// 203.0.113.5, 2001:db8::/64, registered) with dave@umkc.edu, a
// registered lone 192.0.2.1 (contact, PTR) with domain pair example.net
// and VERP source lists.example.com, entity 3 deleted, a pinned lone
// 2001:db8:1::25, ann@x.example through the lone 192.0.2.77 it made, token
// ops, zone record ns1 A. This build restores it, writes it back as
// format 6 with the same entities and records, and refuses a format-6
// body under a format-5 header.
func TestSnapshot_RestoresFormat5(t *testing.T) {
	f := restoreUpgraded(t, "testdata/snapshot-v5.bin")
	v := f.Index().Load()
	g := v.EntityOf(addr("203.0.113.5"))
	if g == nil || g.Name != "Relays" || len(g.Prefixes) != 3 || v.Pair(g.ID, []byte("dave@umkc.edu")) == nil ||
		entityIDOf(v, "198.51.100.9") != g.ID || entityIDOf(v, "2001:db8::9") != g.ID {
		t.Fatalf("group or its pair missing: %+v", g)
	}
	lone := v.EntityOf(addr("192.0.2.1"))
	if lone == nil || lone.PTR != "mx1.example.net" || lone.Contact != "hostmaster@example.net" ||
		v.Pair(lone.ID, []byte("example.net")) == nil || v.Verp(lone.ID, []byte("lists.example.com")) == nil {
		t.Fatalf("lone relay or its records missing: %+v", lone)
	}
	if e := v.Entity(3); e != nil || v.EntityOf(addr("2001:db8:1::25")) == nil || !v.EntityOf(addr("2001:db8:1::25")).Pinned ||
		v.Pair(entityIDOf(v, "192.0.2.77"), []byte("ann@x.example")) == nil || v.Counts().Entities != 4 {
		t.Fatalf("entities %+v", v.Counts())
	}
	// The group's name is taken after the restore, as before it.
	h := &fsmHarness{tb: t, f: f, idx: v.Serial(), now: t0 + 1000}
	wantRejected(t, h.do(command.EntityPut, command.EntityBody{Name: "relays", Group: true}), command.Conflict, "taken")
	snap := persist(t, f)
	snap[len(snapMagic)] = 5
	if _, err := NewFSM(nil, nil).Restore(io.NopCloser(bytes.NewReader(snap))); err == nil || !strings.Contains(err.Error(), "format 5") {
		t.Fatalf("a format-6 body under a format-5 header: %v", err)
	}
}
