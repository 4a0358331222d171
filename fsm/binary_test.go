package fsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wlns/wlns/command"
)

// randomWrites is a random sequence of the single writes the API makes
// (relays and groups, members, pairs, VERP sources, and their deletes) and
// seen reports (touch),
// from small pools so they meet: refreshes, conflicts, unknown entities,
// bad addresses and senders are all in it.
func randomWrites(tb testing.TB, r *rand.Rand, n int) []*command.Envelope {
	pick := func(ss ...string) string { return ss[r.IntN(len(ss))] }
	ip := func() string {
		return pick(fmt.Sprintf("192.0.2.%d", r.IntN(8)), fmt.Sprintf("198.51.100.%d", r.IntN(4)), "2001:db8::1", "", "bad", "192.0.2.0/30")
	}
	prefixes := func() []string {
		var out []string
		for range r.IntN(3) {
			out = append(out, pick("192.0.2.0/29", "192.0.2.5", "198.51.100.0/30", "2001:db8::/64", "10.0.0.0/8", "nope"))
		}
		return out
	}
	sender := func() string {
		return pick("a@example.org", "B@Example.ORG", "example.net", "@example.net", "bounce+x=y@lists.example", "bad sender", "ü@bücher.example", "")
	}
	by, method := func() string { return pick("", "ops", "ünïcode-tök") }, func() string { return pick("", "api", "link") }
	out := make([]*command.Envelope, 0, n)
	for i := range n {
		now, req := t0+int64(i/3), pick("", fmt.Sprintf("r%d", r.IntN(n)))
		var t command.Type
		var body any
		switch k := r.IntN(11); k {
		case 0, 1:
			t = command.EntityPut
			body = command.EntityBody{ID: uint64(r.IntN(4)), Name: pick("", "g1", "g2"), Group: r.IntN(2) == 0, Prefixes: prefixes(),
				Registered: r.IntN(2) == 0, Contact: pick("", "ops@example.org"), PTR: pick("", "mx.example.org"), Pinned: r.IntN(2) == 0}
		case 2:
			t, body = command.EntityDelete, command.EntityBody{ID: uint64(r.IntN(6))}
		case 3:
			t = []command.Type{command.MembersAdd, command.MembersRemove}[r.IntN(2)]
			body = command.MembersBody{Entity: uint64(r.IntN(6)), Prefixes: prefixes()}
		case 4, 5, 6:
			t = []command.Type{command.PairPut, command.PairPut, command.PairDelete}[r.IntN(3)]
			body = command.PairBody{Sender: sender(), Entity: uint64(r.IntN(3)) * uint64(r.IntN(2)), IP: ip(), By: by(), Method: method(), Pinned: r.IntN(2) == 0}
		case 10:
			t = command.Touch
			body = command.TouchBody{Entities: []command.TouchEntity{{ID: uint64(1 + r.IntN(4)), Self: r.IntN(2) == 0, Age: int64(r.IntN(5)),
				Pairs: []command.TouchItem{{Key: pick("a@example.org", "example.net", "bounce+x=y@lists.example"), Age: int64(r.IntN(5))}},
				Verps: []command.TouchItem{{Key: "lists.example.org", Age: int64(r.IntN(5))}}}}}
		default:
			t = []command.Type{command.VerpPut, command.VerpDelete}[r.IntN(2)]
			body = command.VerpBody{Domain: pick("lists.example.org", "LISTS.example.org", "bad domain", ""), Entity: uint64(r.IntN(3)) * uint64(r.IntN(2)),
				IP: ip(), By: by(), Method: method(), Pinned: r.IntN(2) == 0}
		}
		out = append(out, env(tb, t, now, req, body))
	}
	return out
}

// entriesOf encodes es as log entries of up to five commands each (a
// Group when more than one), binary or JSON; the grouping depends only on
// seed, so both forms have the same entries.
func entriesOf(tb testing.TB, es []*command.Envelope, seed uint64, binary bool) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var out [][]byte
	for len(es) > 0 {
		n := min(1+r.IntN(5), len(es))
		cmds, raw := es[:n], make([][]byte, n)
		for i, e := range cmds {
			var err error
			if b, ok := e.EncodeBinary(); binary && ok {
				raw[i] = b
			} else if raw[i], err = e.Encode(); err != nil {
				tb.Fatal(err)
			}
		}
		if n == 1 {
			out = append(out, raw[0])
		} else {
			out = append(out, command.EncodeGroup(cmds[n-1].Time, cmds, raw))
		}
		es = es[n:]
	}
	return out
}

// TestBinary_AppliesAsTheJSONForm: random sequences of every single-write
// kind, written once as JSON entries and once as binary ones (grouped
// alike), give the same results and byte-identical snapshots.
func TestBinary_AppliesAsTheJSONForm(t *testing.T) {
	for seed := range uint64(40) {
		es := randomWrites(t, rand.New(rand.NewPCG(seed, 7)), 120)
		var snaps [2][]byte
		var results [2]string
		binaryEntries := 0
		for form, binary := range []bool{false, true} {
			f := NewFSM(nil, nil)
			for i, b := range entriesOf(t, es, seed, binary) {
				if b[0] == command.BinaryMark {
					binaryEntries++
				}
				res := f.ApplyEntries([]Entry{{Index: uint64(i + 1), Term: 1, Command: true, Data: b}})
				results[form] += fmt.Sprintf("%+v\n", res)
			}
			snaps[form] = persist(t, f)
		}
		if binaryEntries == 0 {
			t.Fatalf("seed %d: no binary entry written", seed)
		}
		if results[0] != results[1] {
			t.Fatalf("seed %d: results differ\nJSON:\n%s\nbinary:\n%s", seed, results[0], results[1])
		}
		if !bytes.Equal(snaps[0], snaps[1]) {
			t.Fatalf("seed %d: snapshots differ (%d and %d bytes)", seed, len(snaps[0]), len(snaps[1]))
		}
	}
}

// BenchmarkFSM_ApplyGroupOf30: what a follower does per write with the
// group commit's usual entry (30 pair writes from 64 API writers), the
// entry JSON or binary: decode and apply (the entries are built before
// the timer starts).
func BenchmarkFSM_ApplyGroupOf30(b *testing.B) {
	for _, binary := range []bool{false, true} {
		b.Run(map[bool]string{false: "json", true: "binary"}[binary], func(b *testing.B) {
			entries := make([]Entry, b.N)
			for i := range entries {
				cmds, raw := make([]*command.Envelope, 30), make([][]byte, 30)
				for j := range cmds {
					cmds[j] = env(b, command.PairPut, t0, fmt.Sprintf("%032x", i*30+j), command.PairBody{
						Sender: fmt.Sprintf("sender%d@example.org", i*30+j), IP: fmt.Sprintf("192.0.2.%d", j), By: "bench", Method: "api"})
					if bin, ok := cmds[j].EncodeBinary(); binary && ok {
						raw[j] = bin
					} else {
						raw[j], _ = cmds[j].Encode()
					}
				}
				entries[i] = Entry{Index: uint64(i + 1), Term: 1, Command: true, Data: command.EncodeGroup(t0, cmds, raw)}
			}
			f := NewFSM(nil, nil)
			start := cpuTime()
			b.ResetTimer()
			for i := range entries {
				f.ApplyEntries(entries[i : i+1])
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N*30), "cpu-ns/write")
		})
	}
}
