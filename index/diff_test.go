package index

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wlns/wlns/index/internal/oracle"
	"github.com/wlns/wlns/record"
)

// world is the key space a differential run draws from: few entities and
// senders, so that writes often hit records that exist.
type world struct {
	entities []uint64
	senders  []string // addresses with dotted local parts and domains
	domains  []string // domain-wide pair keys and VERP domains
}

func newWorld() *world {
	w := &world{entities: []uint64{1, 2, 3, 7, 1 << 20, 1<<32 - 1}}
	locals := []string{"dave", "first.last", "a.b.c", "x", "info+news", "o'brien", "umkc.edu"}
	doms := []string{"umkc.edu", "example.org", "mail.example.org", "a.b.example.net", "x"}
	for _, l := range locals {
		for _, d := range doms {
			w.senders = append(w.senders, l+"@"+d)
		}
	}
	w.domains = append(doms, "lists.example.org", "first.last")
	return w
}

// pair is a differential run's side by side: the old store and the new.
type pair struct {
	old *oracle.Txn
	new *Txn
}

func (w *world) randPair(r *rand.Rand) *record.Pair {
	p := &record.Pair{Entity: w.entities[r.IntN(len(w.entities))], By: []string{"", "tok1", "challenge"}[r.IntN(3)], Method: []string{"api", "import", "link"}[r.IntN(3)]}
	if r.IntN(4) == 0 {
		p.Sender = w.domains[r.IntN(len(w.domains))]
	} else {
		p.Sender = w.senders[r.IntN(len(w.senders))]
	}
	p.Created = 1_700_000_000 + r.Int64N(1e6)
	p.Updated = p.Created + r.Int64N(1e5)
	if r.IntN(2) == 0 {
		p.LastQueried = p.Created + r.Int64N(1e6)
	}
	p.Pinned = r.IntN(5) == 0
	return p
}

func (w *world) randVerp(r *rand.Rand) *record.Verp {
	p := w.randPair(r)
	return &record.Verp{Entity: p.Entity, Domain: w.domains[r.IntN(len(w.domains))], By: p.By, Method: p.Method, Meta: record.Meta{Created: p.Created, Updated: p.Updated, LastQueried: p.LastQueried, Pinned: p.Pinned}}
}

// step applies one random write to both stores.
func (w *world) step(r *rand.Rand, tx pair) {
	ent := w.entities[r.IntN(len(w.entities))]
	at := 1_700_000_000 + r.Int64N(3e6)
	switch op := r.IntN(14); op {
	case 0, 1, 2:
		p := w.randPair(r)
		tx.old.PutPair(p)
		tx.new.PutPair(p)
	case 3:
		s := w.senders[r.IntN(len(w.senders))]
		tx.old.DeletePair(ent, s)
		tx.new.DeletePair(ent, s)
	case 4:
		d := w.domains[r.IntN(len(w.domains))]
		tx.old.DeletePair(ent, d)
		tx.new.DeletePair(ent, d)
	case 5:
		vp := w.randVerp(r)
		tx.old.PutVerp(vp)
		tx.new.PutVerp(vp)
	case 6:
		d := w.domains[r.IntN(len(w.domains))]
		tx.old.DeleteVerp(ent, d)
		tx.new.DeleteVerp(ent, d)
	case 7: // a touch, as raftstore applied it on the old store
		s := append(w.senders, w.domains...)[r.IntN(len(w.senders)+len(w.domains))]
		if p := tx.old.View().Pair(ent, []byte(s)); p != nil && at > p.LastQueried {
			n := &record.Pair{Entity: p.Entity, Sender: p.Sender, By: p.By, Method: p.Method}
			p.CopyMetaTo(&n.Meta)
			n.LastQueried = at
			tx.old.PutPair(n)
		}
		tx.new.TouchPair(ent, s, at)
	case 8:
		d := w.domains[r.IntN(len(w.domains))]
		if vp := tx.old.View().Verp(ent, []byte(d)); vp != nil && at > vp.LastQueried {
			n := &record.Verp{Entity: vp.Entity, Domain: vp.Domain, By: vp.By, Method: vp.Method}
			vp.CopyMetaTo(&n.Meta)
			n.LastQueried = at
			tx.old.PutVerp(n)
		}
		tx.new.TouchVerp(ent, d, at)
	case 9:
		tx.old.DeletePair(ent, "umkc.edu")
		tx.new.DeletePair(ent, "umkc.edu")
	default:
		w.stepEntity(r, tx, op-10)
	}
}

// mark makes positive answers through the published versions, as the DNS
// path does.
func (w *world) mark(r *rand.Rand, ov *oracle.View, nv *View) {
	for i := r.IntN(6); i > 0; i-- {
		ent := w.entities[r.IntN(len(w.entities))]
		s := append(w.senders, w.domains...)[r.IntN(len(w.senders)+len(w.domains))]
		at := 1_700_000_000 + r.Int64N(3e6)
		if p := ov.Pair(ent, []byte(s)); p != nil {
			p.MarkSeen(at)
		}
		if ref := nv.LookupPair(ent, []byte(s)); ref.Found() {
			ref.MarkSeen(at)
		}
		if vp := ov.Verp(ent, []byte(s)); vp != nil {
			vp.MarkSeen(at)
		}
		if ref := nv.LookupVerp(ent, []byte(s)); ref.Found() {
			ref.MarkSeen(at)
		}
	}
}

// compare demands that ov and nv answer every question alike. withSeen
// includes the local seen marks: in an older version they may differ, as
// the old store split a record's mark at each touch (a mark through a
// version before the touch was lost) where the new one keeps one mark.
func (w *world) compare(t *testing.T, ov *oracle.View, nv *View, withSeen bool) {
	t.Helper()
	seen := func(m *record.Meta) int64 {
		if withSeen {
			return m.Seen()
		}
		return -1
	}
	pairString := func(p *record.Pair) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%d|%s|%s|%s|%d|%d|%d|%v|seen %d", p.Entity, p.Sender, p.By, p.Method, p.Created, p.Updated, p.LastQueried, p.Pinned, seen(&p.Meta))
	}
	verpString := func(v *record.Verp) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprintf("%d|%s|%s|%s|%d|%d|%d|%v|seen %d", v.Entity, v.Domain, v.By, v.Method, v.Created, v.Updated, v.LastQueried, v.Pinned, seen(&v.Meta))
	}
	keys := append(slices.Clone(w.senders), w.domains...)
	for _, ent := range append(w.entities, 4, 1<<33) {
		for _, s := range keys {
			if o, n := pairString(ov.Pair(ent, []byte(s))), pairString(nv.Pair(ent, []byte(s))); o != n {
				t.Fatalf("Pair(%d, %q): old %s, new %s", ent, s, o, n)
			}
			sum := sha256.Sum256([]byte(s))
			if o, n := pairString(ov.PairByHash(ent, &sum)), pairString(nv.PairByHash(ent, &sum)); o != n {
				t.Fatalf("PairByHash(%d, %q): old %s, new %s", ent, s, o, n)
			}
			if o, n := verpString(ov.Verp(ent, []byte(s))), verpString(nv.Verp(ent, []byte(s))); o != n {
				t.Fatalf("Verp(%d, %q): old %s, new %s", ent, s, o, n)
			}
		}
	}
	op, od, ovp := ov.Counts()
	if c := nv.Counts(); c.Pairs != op || c.DomainPairs != od || c.VerpSources != ovp {
		t.Fatalf("counts: old %d/%d/%d, new %+v", op, od, ovp, c)
	}
	var o, n []string
	ov.Pairs(func(p *record.Pair) bool { o = append(o, pairString(p)); return true })
	nv.Pairs(func(p *record.Pair) bool { n = append(n, pairString(p)); return true })
	ov.Verps(func(v *record.Verp) bool { o = append(o, verpString(v)); return true })
	nv.Verps(func(v *record.Verp) bool { n = append(n, verpString(v)); return true })
	slices.Sort(o)
	slices.Sort(n)
	if !slices.Equal(o, n) {
		t.Fatalf("contents differ:\nold %q\nnew %q", o, n)
	}
	w.compareEntities(t, ov, nv, withSeen)
	if withSeen { // the current version: derived answers too
		w.compareDerived(t, ov, nv)
	}
}

// compareDerived checks what the new store answers beyond the old one's
// questions against the old store's records: records per entity, and the
// records a sweep at a cutoff would look at.
func (w *world) compareDerived(t *testing.T, ov *oracle.View, nv *View) {
	t.Helper()
	per := map[uint64]int{}
	ov.Pairs(func(p *record.Pair) bool { per[p.Entity]++; return true })
	ov.Verps(func(v *record.Verp) bool { per[v.Entity]++; return true })
	for _, ent := range w.entities {
		if got := nv.RecordsOf(ent); got != per[ent] {
			t.Fatalf("RecordsOf(%d) = %d, want %d", ent, got, per[ent])
		}
	}
	for _, cutoff := range []int64{0, 1_700_300_000, 1_701_000_000, 1_702_000_000, 1 << 40} {
		var o, n []string
		ov.Pairs(func(p *record.Pair) bool {
			if p.ExpiredAt(cutoff) {
				o = append(o, fmt.Sprintf("p %d %s", p.Entity, p.Sender))
			}
			return true
		})
		ov.Verps(func(v *record.Verp) bool {
			if v.ExpiredAt(cutoff) {
				o = append(o, fmt.Sprintf("v %d %s", v.Entity, v.Domain))
			}
			return true
		})
		nv.EachPairExpiring(cutoff, func(r Ref) bool { n = append(n, fmt.Sprintf("p %d %s", r.Entity(), r.Key())); return true })
		nv.EachVerpExpiring(cutoff, func(r Ref) bool { n = append(n, fmt.Sprintf("v %d %s", r.Entity(), r.Key())); return true })
		slices.Sort(o)
		slices.Sort(n)
		if !slices.Equal(o, n) {
			t.Fatalf("expiring at %d:\nold %q\nnew %q", cutoff, o, n)
		}
	}
}

// TestDiff_NewStoreAnswersAsTheOldOne applies the same seeded random
// writes (pairs, VERP sources, entities with overlapping member prefixes),
// touches, seen marks and all-or-nothing groups to the old store
// and the new, and compares every answer after each commit, and every
// earlier version again at the end (published versions never change).
func TestDiff_NewStoreAnswersAsTheOldOne(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 42))
			w := newWorld()
			oix, nix := oracle.New(), New()
			nix.cold.compactAt = 64 // compact the cold arenas often
			nix.ecold.compactAt = 64
			type version struct {
				ov *oracle.View
				nv *View
			}
			var kept []version
			for round := 0; round < 40; round++ {
				tx := pair{oix.Begin(), nix.Begin()}
				for i := r.IntN(40); i > 0; i-- {
					if r.IntN(8) == 0 {
						child := pair{tx.old.Child(), tx.new.Child()}
						for j := r.IntN(20); j > 0; j-- {
							w.step(r, child)
						}
						if r.IntN(2) == 0 {
							tx.old.Adopt(child.old)
							tx.new.Adopt(child.new)
						}
						continue
					}
					w.step(r, tx)
				}
				w.compare(t, tx.old.View(), tx.new.View(), true)
				tx.old.Commit()
				tx.new.Commit()
				kept = append(kept, version{ov: oix.Load(), nv: nix.Load()})
				w.mark(r, oix.Load(), nix.Load())
				w.markEntities(r, oix.Load(), nix.Load())
			}
			for _, k := range kept {
				w.compare(t, k.ov, k.nv, false)
			}
			if nix.cold.compactions == 0 || nix.ecold.compactions == 0 {
				t.Errorf("the run compacted the cold arenas %d and %d times, want both", nix.cold.compactions, nix.ecold.compactions)
			}
		})
	}
}
