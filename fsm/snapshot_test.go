package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// randomLog returns n seeded random commands over a small universe, so
// that creates, refreshes, conflicts, rejections, duplicates and batches
// all happen.
func randomLog(tb testing.TB, seed uint64, n int) []*command.Envelope {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ip := func() string {
		if rng.IntN(4) == 0 {
			return fmt.Sprintf("2001:db8::%x", rng.IntN(64))
		}
		return fmt.Sprintf("192.0.2.%d", rng.IntN(64))
	}
	sender := func() string {
		if rng.IntN(5) == 0 {
			return fmt.Sprintf("d%d.example", rng.IntN(8))
		}
		return fmt.Sprintf("u%d@d%d.example", rng.IntN(40), rng.IntN(8))
	}
	now := int64(t0)
	one := func() (command.Type, any) {
		switch rng.IntN(20) {
		case 16, 17, 18, 19:
			return randomChallengeCommand(rng, ip)
		case 10:
			return command.Touch, command.TouchBody{Entities: []command.TouchEntity{{ID: uint64(rng.IntN(30)), Self: rng.IntN(2) == 0, Age: int64(rng.IntN(900)),
				Pairs: []command.TouchItem{{Key: sender(), Age: int64(rng.IntN(900))}},
				Verps: []command.TouchItem{{Key: fmt.Sprintf("l%d.example", rng.IntN(5)), Age: int64(rng.IntN(900))}}}}}
		case 11:
			if rng.IntN(3) == 0 {
				c := func() int64 { return now - int64(rng.IntN(400_000)) }
				return command.Expire, command.ExpireBody{Pairs: c(), DomainPairs: c(), Verps: c(), Relays: c(), Groups: c() * int64(rng.IntN(2)), Orphans: c(), Challenges: c()}
			}
			return command.PairPut, command.PairBody{Sender: sender(), IP: ip()}
		case 0:
			return command.EntityPut, command.EntityBody{Name: fmt.Sprintf("g%d", rng.IntN(6)), Group: true,
				Prefixes: []string{fmt.Sprintf("198.51.%d.0/24", rng.IntN(8))}, Registered: rng.IntN(2) == 0}
		case 1:
			return command.EntityPut, command.EntityBody{ID: uint64(rng.IntN(30)), Prefixes: []string{ip()}, Pinned: true}
		case 2:
			return command.EntityDelete, command.EntityBody{ID: uint64(rng.IntN(30))}
		case 3:
			return command.MembersAdd, command.MembersBody{Entity: uint64(rng.IntN(30)), Prefixes: []string{ip()}}
		case 4:
			return command.MembersRemove, command.MembersBody{Entity: uint64(rng.IntN(30)), Prefixes: []string{ip()}}
		case 5:
			return command.PairDelete, command.PairBody{Sender: sender(), IP: ip()}
		case 6:
			return command.VerpPut, command.VerpBody{Domain: fmt.Sprintf("l%d.example", rng.IntN(5)), IP: ip(), By: "t"}
		case 7:
			return command.VerpDelete, command.VerpBody{Domain: fmt.Sprintf("l%d.example", rng.IntN(5)), IP: ip()}
		case 8:
			return command.TokenPut, command.TokenBody{Name: fmt.Sprintf("t%d", rng.IntN(5)), Hash: secretHash(fmt.Sprint(rng.IntN(7))), Role: "read"}
		case 9:
			if rng.IntN(2) == 0 {
				return command.SuggestionDismiss, command.SuggestionDismissBody{Entities: []uint64{uint64(1 + rng.IntN(120)), uint64(1 + rng.IntN(120))}, Shared: rng.IntN(50)}
			}
			return command.TokenDelete, command.TokenBody{Name: fmt.Sprintf("t%d", rng.IntN(5))}
		default:
			return command.PairPut, command.PairBody{Sender: sender(), IP: ip(), By: "api", Method: "link", Pinned: rng.IntN(9) == 0}
		}
	}
	out := make([]*command.Envelope, 0, n)
	for range n {
		now += int64(rng.IntN(600))
		req := ""
		if rng.IntN(3) == 0 {
			req = fmt.Sprintf("r%d", rng.IntN(200))
		}
		if rng.IntN(25) == 0 { // an import: registrations, then records
			var w command.ImportWriter
			for range rng.IntN(3) {
				w.AddRegistration(command.ImportRegistration{ID: uint64(rng.IntN(4) * rng.IntN(40)), Addr: netip.MustParseAddr(ip()),
					Contact: "pm@example.org", PTR: "mx.example.org", Pinned: rng.IntN(2) == 0})
			}
			for range 1 + rng.IntN(8) {
				w.Add(command.ImportRelay{IP: netip.MustParseAddr(ip())}, command.ImportRecord{Text: sender(), Pinned: rng.IntN(9) == 0})
			}
			recs, _ := w.Encode()
			out = append(out, env(tb, command.Import, now, req, command.ImportBody{By: "ops", Method: "import", Records: recs}))
			continue
		}
		if rng.IntN(10) == 0 {
			var b command.BatchBody
			for range 1 + rng.IntN(5) {
				typ, body := one()
				b.Commands = append(b.Commands, *env(tb, typ, 0, "", body))
			}
			out = append(out, env(tb, command.Batch, now, req, b))
			continue
		}
		typ, body := one()
		out = append(out, env(tb, typ, now, req, body))
	}
	return out
}

// applyInChunks applies log through a fresh FSM in raft batches whose sizes
// come from sizes (cycled), and returns the FSM and every result.
func applyInChunks(tb testing.TB, log []*command.Envelope, sizes []int) (*FSM, []command.Result) {
	return applyInChunksAs(tb, log, sizes, false)
}

// applyInChunksAs is applyInChunks, the commands with a binary form
// written as binary entries when binary is set.
func applyInChunksAs(tb testing.TB, log []*command.Envelope, sizes []int, binary bool) (*FSM, []command.Result) {
	h := newHarness(tb)
	h.binary = binary
	var results []command.Result
	for i, k := 0, 0; i < len(log); k++ {
		n := min(sizes[k%len(sizes)], len(log)-i)
		results = append(results, h.apply(log[i:i+n]...)...)
		i += n
	}
	return h.f, results
}

func TestFSM_DeterministicAcrossBatchBoundaries(t *testing.T) {
	log := randomLog(t, 42, 4000)
	a, ra := applyInChunks(t, log, []int{1})
	b, rb := applyInChunks(t, log, []int{64, 3, 17, 1, 40})
	sa, sb := persist(t, a), persist(t, b)
	if !bytes.Equal(sa, sb) {
		t.Fatalf("snapshots differ: %d vs %d bytes", len(sa), len(sb))
	}
	if fmt.Sprint(ra) != fmt.Sprint(rb) {
		t.Fatal("results differ")
	}
	bin, rbin := applyInChunksAs(t, log, []int{5, 1, 33}, true)
	if sc := persist(t, bin); !bytes.Equal(sa, sc) || fmt.Sprint(ra) != fmt.Sprint(rbin) {
		t.Fatalf("with binary entries: snapshot %d bytes (want %d), results equal %v", len(sc), len(sa), fmt.Sprint(ra) == fmt.Sprint(rbin))
	}
	var applied, rejected, dups int
	for _, r := range ra {
		switch {
		case r.Duplicate:
			dups++
		case r.Err != nil:
			rejected++
		default:
			applied++
		}
	}
	c := a.Index().Load().Counts()
	t.Logf("applied %d, rejected %d, duplicates %d; counts %+v; snapshot %d bytes", applied, rejected, dups, c, len(sa))
	if applied < 1000 || rejected < 100 || dups < 10 || c.Pairs == 0 || c.VerpSources == 0 || c.DomainPairs == 0 {
		t.Fatal("the random log does not exercise enough cases")
	}
	ok, refused := map[command.Type]int{}, map[command.Type]int{}
	for i, r := range ra {
		switch {
		case r.Err == nil && !r.Duplicate:
			ok[log[i].Type]++
		case r.Err != nil:
			refused[log[i].Type]++
		}
	}
	t.Logf("challenges: applied %v, rejected %v, %d stored", ok, refused, a.ChallengeCount())
	if ok[command.SuggestionDismiss] < 3 || refused[command.SuggestionDismiss] < 10 {
		t.Fatalf("the random log does not exercise %s (applied %d, refused %d)", command.SuggestionDismiss, ok[command.SuggestionDismiss], refused[command.SuggestionDismiss])
	}
	if ok[command.Import] < 10 || refused[command.Import] < 10 {
		t.Fatalf("the random log does not exercise %s (applied %d, refused %d)", command.Import, ok[command.Import], refused[command.Import])
	}
	for _, typ := range []command.Type{command.ChallengeOpen, command.ChallengeConfirm, command.ChallengeReport, command.ChallengeSent} {
		if ok[typ] < 10 || refused[typ] < 10 {
			t.Fatalf("the random log does not exercise %s", typ)
		}
	}
	if a.ChallengeCount() == 0 {
		t.Fatal("no challenge left to snapshot")
	}
}

func TestSnapshot_RoundTrip(t *testing.T) {
	a, _ := applyInChunks(t, randomLog(t, 7, 3000), []int{50})
	snap := persist(t, a)
	b := NewFSM(nil, nil)
	if _, err := b.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if again := persist(t, b); !bytes.Equal(snap, again) {
		t.Fatalf("persist after restore differs: %d vs %d bytes", len(snap), len(again))
	}
	va, vb := a.Index().Load(), b.Index().Load()
	if va.Serial() != vb.Serial() || va.Counts() != vb.Counts() {
		t.Fatalf("serial/counts %d %+v vs %d %+v", va.Serial(), va.Counts(), vb.Serial(), vb.Counts())
	}
	for i := range 64 {
		ip := fmt.Sprintf("192.0.2.%d", i)
		if entityIDOf(va, ip) != entityIDOf(vb, ip) {
			t.Fatalf("%s resolves differently after restore", ip)
		}
	}
	if tokenStrings(a) != tokenStrings(b) || tokenStrings(a) == "" {
		t.Fatal("tokens differ after restore")
	}
	// The restored FSM goes on exactly like the original.
	more := randomLog(t, 8, 500)
	ha, hb := &fsmHarness{tb: t, f: a, idx: va.Serial()}, &fsmHarness{tb: t, f: b, idx: vb.Serial()}
	ra, rb := ha.apply(more...), hb.apply(more...)
	if fmt.Sprint(ra) != fmt.Sprint(rb) || !bytes.Equal(persist(t, a), persist(t, b)) {
		t.Fatal("restored FSM diverges on further commands")
	}
}

func TestSnapshot_CorruptOrTruncatedIsRejectedAndOldDataKept(t *testing.T) {
	src, _ := applyInChunks(t, randomLog(t, 9, 1500), []int{10})
	snap := persist(t, src)
	flip := func(i int) []byte {
		b := bytes.Clone(snap)
		b[i] ^= 0x20
		return b
	}
	cases := map[string][]byte{
		"empty":         nil,
		"header only":   snap[:9],
		"half":          snap[:len(snap)/2],
		"no checksum":   snap[:len(snap)-4],
		"last byte cut": snap[:len(snap)-1],
		"flipped magic": flip(0),
		"flipped body":  flip(len(snap) / 3),
		"flipped crc":   flip(len(snap) - 1),
		"trailing data": append(bytes.Clone(snap), 0),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.ok(groupA.typ, groupA.body)
			h.ok(pairA.typ, pairA.body)
			h.ok(tokAdm.typ, tokAdm.body)
			before := h.view()
			_, err := h.f.Restore(io.NopCloser(bytes.NewReader(data)))
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v, want ErrCorruptSnapshot", err)
			}
			t.Log(err)
			if h.view() != before || h.f.Token(secretHash("s1")) == nil || h.view().Pair(1, []byte("dave@umkc.edu")) == nil {
				t.Fatal("failed restore changed the serving data")
			}
		})
	}
}

// gateWriter blocks its first write until release is closed.
type gateWriter struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	buf     bytes.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.started); <-g.release })
	return g.buf.Write(p)
}

func TestSnapshot_PersistDoesNotStopWritesOrReads(t *testing.T) {
	h := newHarness(t)
	for _, e := range randomLog(t, 11, 500) {
		h.apply(e)
	}
	want := persist(t, h.f)
	snap := h.f.Capture()
	sink := &gateWriter{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { _, err := snap.WriteTo(sink); done <- err }()
	<-sink.started // Persist is now stuck in the middle of writing.

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
					v := h.f.Index().Load()
					_ = v.EntityOf(addr("192.0.2.1"))
					_ = v.Pair(1, []byte("u1@d1.example"))
				}
			}
		}()
	}
	applied := make(chan struct{})
	go func() {
		for _, e := range randomLog(t, 12, 500) {
			h.apply(e)
		}
		close(applied)
	}()
	select {
	case <-applied:
	case <-time.After(20 * time.Second):
		t.Fatal("writes blocked while a snapshot was being persisted")
	}
	close(sink.release)
	if err := <-done; err != nil {
		t.Fatalf("persist: %v", err)
	}
	close(stop)
	readers.Wait()
	if !bytes.Equal(sink.buf.Bytes(), want) {
		t.Fatal("the snapshot includes writes made after it was taken")
	}
	if bytes.Equal(persist(t, h.f), want) {
		t.Fatal("writes during persist were lost")
	}
}

func tokenStrings(f *FSM) string {
	var s string
	for _, t := range f.Tokens() {
		s += fmt.Sprintf("%+v\n", *t)
	}
	return s
}

func TestFSM_ReadersSeeWholeRaftBatches(t *testing.T) {
	h := newHarness(t)
	const perBatch = 25
	stop := make(chan struct{})
	bad := make(chan int, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(bad)
				return
			default:
			}
			if n := h.f.Index().Load().Counts().Pairs; n%perBatch != 0 {
				bad <- n
				close(bad)
				return
			}
		}
	}()
	for b := range 40 {
		es := make([]*command.Envelope, perBatch)
		for i := range es {
			es[i] = env(t, command.PairPut, t0, "", command.PairBody{Sender: fmt.Sprintf("u%d-%d@example.org", b, i), IP: "192.0.2.1"})
		}
		h.apply(es...)
	}
	close(stop)
	if n, ok := <-bad; ok {
		t.Fatalf("a reader saw %d pairs: half of a raft batch", n)
	}
}

func TestSnapshot_EntityIDPast32BitsIsRefusedNotACrash(t *testing.T) {
	src := newHarness(t)
	src.ok(groupA.typ, groupA.body)
	// A forged or damaged snapshot whose last entity ID is past what the
	// index holds would make the next entity put panic on every replica.
	src.f.st.lastID = 1<<32 + 7
	snap := persist(t, src.f)

	h := newHarness(t)
	h.ok(pairA.typ, pairA.body)
	before := h.view()
	_, err := h.f.Restore(io.NopCloser(bytes.NewReader(snap)))
	if err == nil || !strings.Contains(err.Error(), "32-bit") {
		t.Fatalf("restoring a last entity ID of 2^32+7: %v, want a refusal naming the 32-bit IDs", err)
	}
	if h.view() != before {
		t.Fatal("the refused restore changed the serving data")
	}
}
