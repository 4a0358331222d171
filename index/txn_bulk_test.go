package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/wlns/wlns/record"
)

// TestUpsertAll_SameAsOneByOne: batches of upserts (new records, records
// already there with seen marks, query times and other provenance, texts
// given twice in one batch, pinned and not, pairs, domain pairs and VERP
// sources) leave the same records, counts, snapshot bytes and leaves
// through UpsertAll as through UpsertPair and UpsertVerp one at a time.
func TestUpsertAll_SameAsOneByOne(t *testing.T) {
	for _, batch := range []int{1, 7, 300, 3000} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(batch), 10))
			w := newWorld()
			bulk, one := New(), New()
			for round := range 8 {
				at := 1_700_000_000 + int64(round)*1000
				if round%3 == 0 { // other writes in between: existing records with other fields
					tb, to := bulk.Begin(), one.Begin()
					for range 40 {
						p := w.randPair(r)
						p.By = "api"
						tb.PutPair(p)
						to.PutPair(p)
					}
					tb.Commit()
					to.Commit()
					bulk.Load().EachPair(func(x Ref) bool { x.MarkSeen(at - 5); return true })
					one.Load().EachPair(func(x Ref) bool { x.MarkSeen(at - 5); return true })
				}
				rs := make([]Upsert, batch)
				for i := range rs {
					rs[i] = randUpsert(r, w, i)
				}
				tb, to := bulk.Begin(), one.Begin()
				got := tb.UpsertAll(rs, at, "tok1", "import")
				want := 0
				for _, u := range rs {
					if u.Verp && to.UpsertVerp(u.Entity, u.Text, at, u.Pinned, "tok1", "import") ||
						!u.Verp && to.UpsertPair(u.Entity, u.Text, at, u.Pinned, "tok1", "import") {
						want++
					}
				}
				tb.Commit()
				to.Commit()
				if got != want {
					t.Fatalf("round %d: %d new, one by one %d", round, got, want)
				}
				sameRecords(t, bulk.Load(), one.Load())
			}
		})
	}
}

// randUpsert draws from w's small key space (so records repeat) and, for
// every third record, a fresh sender (so leaves fill and split).
func randUpsert(r *rand.Rand, w *world, i int) Upsert {
	u := Upsert{Entity: w.entities[r.IntN(len(w.entities))], Pinned: r.IntN(5) == 0}
	switch r.IntN(6) {
	case 0:
		u.Verp, u.Text = true, w.domains[r.IntN(len(w.domains))]
	case 1:
		u.Text = w.domains[r.IntN(len(w.domains))]
	case 2, 3:
		u.Text = w.senders[r.IntN(len(w.senders))]
	default:
		u.Text = fmt.Sprintf("user%d.%d@example%d.org", r.Uint32(), i, r.IntN(50))
	}
	return u
}

// sameRecords fails unless a and b hold the same records with the same
// fields (seen marks included), counts, snapshot bytes and leaves.
func sameRecords(t *testing.T, a, b *View) {
	t.Helper()
	list := func(v *View) []string {
		var out []string
		v.Pairs(func(p *record.Pair) bool {
			out = append(out, "P "+p.Sender+describe(p.Entity, p.By, p.Method, &p.Meta))
			return true
		})
		v.Verps(func(p *record.Verp) bool {
			out = append(out, "V "+p.Domain+describe(p.Entity, p.By, p.Method, &p.Meta))
			return true
		})
		slices.Sort(out)
		return out
	}
	if la, lb := list(a), list(b); !slices.Equal(la, lb) {
		t.Fatalf("records differ:\n%v\n%v", la, lb)
	}
	if a.Counts() != b.Counts() {
		t.Fatalf("counts %+v, one by one %+v", a.Counts(), b.Counts())
	}
	for _, e := range newWorld().entities {
		if a.RecordsOf(e) != b.RecordsOf(e) {
			t.Fatalf("entity %d: %d records, one by one %d", e, a.RecordsOf(e), b.RecordsOf(e))
		}
	}
	if !bytes.Equal(flatBytes(writeFlat(t, a)), flatBytes(writeFlat(t, b))) {
		t.Fatal("snapshot bytes differ")
	}
	for _, tb := range []func(*View) *table{func(v *View) *table { return &v.pairs }, func(v *View) *table { return &v.verps }} {
		if sa, sb := leafShape(tb(a)), leafShape(tb(b)); sa != sb {
			t.Fatalf("leaves %s, one by one %s", sa, sb)
		}
	}
}

// BenchmarkUpsert_10000 writes 10,000 new pairs (a bulk import's batch)
// into an index of 100k and of 1M, through UpsertAll ("all") and through
// UpsertPair one by one ("one"); the transaction is dropped, so every
// round meets the same index.
func BenchmarkUpsert_10000(b *testing.B) {
	const batch = 10_000
	for _, n := range []int{100_000, 1_000_000} {
		ix := buildPairs(n)
		for _, way := range []string{"all", "one"} {
			b.Run(fmt.Sprintf("%s/%d", way, n), func(b *testing.B) {
				rs := make([]Upsert, batch)
				var cpu time.Duration
				for i := 0; b.Loop(); i++ {
					for j := range rs {
						rs[j] = Upsert{Entity: uint64(j%1000 + 1), Text: benchSender(n + i*batch + j)}
					}
					start := cpuTime()
					tx := ix.Begin()
					if way == "all" {
						tx.UpsertAll(rs, 1_800_000_000, "admin", "import")
					} else {
						for _, r := range rs {
							tx.UpsertPair(r.Entity, r.Text, 1_800_000_000, false, "admin", "import")
						}
					}
					cpu += cpuTime() - start
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/record")
			})
		}
	}
}

func describe(entity uint64, by, method string, m *record.Meta) string {
	return fmt.Sprint(" ", entity, by, method, m.Created, m.Updated, m.LastQueried, m.Pinned, m.Seen())
}

// cpuTime is the CPU time (user and system, all threads, the collector's
// included) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
