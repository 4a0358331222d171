package raftstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

func TestSpool_DuplicateReqIDIsOneEntryAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), spoolFile)
	sp, err := openSpoolFile(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(t0, 0)
	e1 := env(t, command.PairPut, t0, "r1", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
	e2 := env(t, command.VerpPut, t0+1, "r2", command.VerpBody{Domain: "lists.example", IP: "192.0.2.1"})
	for i, tc := range []struct {
		e     *command.Envelope
		added bool
		seq   uint64
	}{{e1, true, 1}, {e2, true, 2}, {e1, false, 1}} {
		got, added, err := sp.add(tc.e, false, ErrNoLeader, now)
		if err != nil || added != tc.added || got.Seq != tc.seq {
			t.Fatalf("add %d: %+v added=%v %v, want seq %d added=%v", i, got, added, err, tc.seq, tc.added)
		}
	}
	if err := sp.close(); err != nil {
		t.Fatal(err)
	}
	if sp, err = openSpoolFile(path); err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	pending, failed, err := sp.list()
	if err != nil || len(pending) != 2 || len(failed) != 0 {
		t.Fatalf("after reopening: pending %+v failed %+v %v, want 2 pending", pending, failed, err)
	}
	if p := pending[0]; p.Envelope.ReqID != "r1" || p.Envelope.Time != t0 || p.LastError == "" {
		t.Fatalf("first entry %+v: want r1 with its original time and the cause", p)
	}
	if err := sp.fail(pending[0]); err != nil {
		t.Fatal(err)
	}
	if _, added, _ := sp.add(e1, false, nil, now); added {
		t.Fatal("a failed entry's ReqID was spooled again as a new entry")
	}
	if err := sp.done(pending[1]); err != nil {
		t.Fatal(err)
	}
	if p, f := sp.counts(); p != 0 || f != 1 {
		t.Fatalf("counts %d pending %d failed, want 0 and 1", p, f)
	}
}

func TestSpool_CorruptFileIsAClearError(t *testing.T) {
	path := filepath.Join(t.TempDir(), spoolFile)
	if err := os.WriteFile(path, []byte("this is not a bolt file, but it is long enough to look like one......"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openSpoolFile(path)
	if !errors.Is(err, ErrSpool) {
		t.Fatalf("opening a corrupt spool: %v, want ErrSpool", err)
	}
	if b, _ := os.ReadFile(path); len(b) == 0 {
		t.Fatal("the corrupt spool file was emptied")
	}
}

func TestSpool_FailedListIsCapped(t *testing.T) {
	sp, err := openSpoolFile(filepath.Join(t.TempDir(), spoolFile))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	sp.failedCap = 10
	for i := range sp.failedCap + 5 {
		e := env(t, command.PairPut, t0, "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
		e.ReqID = string(rune('a'+i%26)) + time.Duration(i).String()
		ent, _, err := sp.add(e, false, nil, time.Unix(t0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.fail(ent); err != nil {
			t.Fatal(err)
		}
	}
	_, failed, err := sp.list()
	if err != nil || len(failed) != sp.failedCap || failed[0].Seq != 6 {
		t.Fatalf("failed list: %d entries, first seq %d, %v; want the newest %d", len(failed), failed[0].Seq, err, sp.failedCap)
	}
	if _, added, _ := sp.add(failed[0].Envelope, false, nil, time.Unix(t0, 0)); added {
		t.Fatal("a kept failure's ReqID was spooled again")
	}
	dropped := env(t, command.PairPut, t0, "a0s", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
	if _, added, _ := sp.add(dropped, false, nil, time.Unix(t0, 0)); !added {
		t.Fatal("a dropped failure's ReqID still blocks a new entry")
	}
}

func TestSpoolable_Types(t *testing.T) {
	batch := func(ts ...command.Type) *command.Envelope {
		var b command.BatchBody
		for _, ty := range ts {
			b.Commands = append(b.Commands, command.Envelope{V: command.Version, Type: ty, Body: []byte("{}")})
		}
		return env(t, command.Batch, t0, "", b)
	}
	for _, tc := range []struct {
		e    *command.Envelope
		want bool
	}{
		{env(t, command.PairPut, t0, "", command.PairBody{}), true},
		{env(t, command.VerpPut, t0, "", command.VerpBody{}), true},
		{env(t, command.EntityPut, t0, "", command.EntityBody{}), true},
		{env(t, command.MembersAdd, t0, "", command.MembersBody{}), true},
		{env(t, command.ChallengeConfirm, t0, "", command.ChallengeConfirmBody{}), true},
		{env(t, command.ChallengeReport, t0, "", command.ChallengeReportBody{}), true},
		{env(t, command.PairDelete, t0, "", command.PairBody{}), false},
		{env(t, command.EntityDelete, t0, "", command.EntityBody{}), false},
		{env(t, command.MembersRemove, t0, "", command.MembersBody{}), false},
		{env(t, command.TokenPut, t0, "", command.TokenBody{}), false},
		{env(t, command.Touch, t0, "", command.TouchBody{}), false},
		{env(t, command.ChallengeOpen, t0, "", command.ChallengeOpenBody{}), false},
		{batch(command.PairPut, command.PairPut), true},
		{batch(command.PairPut, command.PairDelete), false},
		{batch(command.ChallengeReport, command.ChallengeOpen), true},
		{batch(command.ChallengeOpen), false},
		{batch(), false},
	} {
		if got := command.Spoolable(tc.e); got != tc.want {
			t.Errorf("Spoolable(%s %s) = %v, want %v", tc.e.Type, tc.e.Body, got, tc.want)
		}
	}
}

func TestApplyOrSpool_QueuesBehindPendingEntries(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	now := time.Now().Unix()
	group := env(t, command.EntityPut, now, "g-1", command.EntityBody{Group: true, Name: "umkc", Prefixes: []string{"198.51.100.0/24"}})
	// As if taken during a partition, before the quorum came back (the
	// loop may replay it at once; the next write must still follow it).
	if _, _, err := s.spool.sp.add(group, false, ErrNoLeader, time.Now()); err != nil {
		t.Fatal(err)
	}
	pair := env(t, command.PairPut, now, "p-1", command.PairBody{Sender: "dave@umkc.edu", IP: "198.51.100.7"})
	if _, _, err := s.ApplyOrSpool(context.Background(), pair); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the spool to drain", func() bool { p, _ := s.SpoolCounts(); return p == 0 })
	v := s.Index().Load()
	g := v.EntityOf(addr("198.51.100.7"))
	if g == nil || !g.Group || v.Pair(g.ID, []byte("dave@umkc.edu")) == nil || v.Counts().Entities != 1 {
		t.Fatalf("the pair overtook the spooled group: entity %+v, counts %+v", g, v.Counts())
	}
	if _, failed, _ := s.SpoolEntries(); len(failed) != 0 {
		t.Fatalf("failed entries: %+v", failed)
	}
}

func TestApplyOrSpool_SpoolFailureIsAnErrorNotAnAck(t *testing.T) {
	lone := tlsNode(t, newCA(t), "lone", false, "s") // never joined: no leader
	if err := lone.spool.sp.db.Close(); err != nil { // as if the disk refused every write
		t.Fatal(err)
	}
	e := env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
	_, spooled, err := lone.ApplyOrSpool(context.Background(), e)
	if spooled || !errors.Is(err, ErrSpool) || !errors.Is(err, ErrNoLeader) {
		t.Fatalf("spooling into a broken spool: spooled=%v %v, want an error naming both causes", spooled, err)
	}
}

func TestOpen_CorruptSpoolIsAClearError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, spoolFile), []byte("not a bolt file, but long enough to be read as one........"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()})
	if err == nil {
		s.Close()
		t.Fatal("a store with a corrupt spool opened")
	}
	if !errors.Is(err, ErrSpool) || !strings.Contains(err.Error(), spoolFile) {
		t.Fatalf("opening with a corrupt spool: %v, want ErrSpool naming the file", err)
	}
}

func TestApplyOrSpool_CallerThatGaveUpIsNotSpooled(t *testing.T) {
	lone := tlsNode(t, newCA(t), "lone", false, "s") // never joined: no leader
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	time.AfterFunc(100*time.Millisecond, cancel) // the client goes away
	e := env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
	_, spooled, err := lone.ApplyOrSpool(ctx, e)
	if spooled || err == nil {
		t.Fatalf("a cancelled write: spooled=%v err=%v, want an error and nothing spooled", spooled, err)
	}
	if p, _ := lone.SpoolCounts(); p != 0 {
		t.Fatalf("%d writes pending after a cancelled request, want 0", p)
	}
	// A write whose caller waits is still spooled while there is no leader.
	e = env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: "b@b.example", IP: "192.0.2.1"})
	if _, spooled, err := lone.ApplyOrSpool(context.Background(), e); !spooled || err != nil {
		t.Fatalf("without a leader: spooled=%v err=%v, want spooled", spooled, err)
	}
}

// TestSpool_WaitingSeesEachAddAfterItFoundNone: waiting answers 0 from
// memory once it found the spool empty, and an entry added afterwards
// (or while it read) is seen by the next call.
func TestSpool_WaitingSeesEachAddAfterItFoundNone(t *testing.T) {
	sp, err := openSpoolFile(filepath.Join(t.TempDir(), spoolFile))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	if n := sp.waiting(); n != 0 || sp.empty.Load()&1 == 0 {
		t.Fatalf("a new spool: %d waiting, known empty %v", n, sp.empty.Load()&1 != 0)
	}
	e := env(t, command.PairPut, t0, "r1", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
	ent, _, err := sp.add(e, false, ErrNoLeader, time.Unix(t0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n := sp.waiting(); n != 1 {
		t.Fatalf("after an add: %d waiting, want 1", n)
	}
	s := sp.empty.Load()
	sp.adding() // an add that began while a read found nothing
	if sp.empty.CompareAndSwap(s, s|1) {
		t.Fatal("a read begun before an add marked the spool empty")
	}
	if err := sp.done(ent); err != nil {
		t.Fatal(err)
	}
	if n := sp.waiting(); n != 0 {
		t.Fatalf("after done: %d waiting", n)
	}
}

func TestSpool_EntriesFiledTogetherShareATransaction(t *testing.T) {
	sp, err := openSpoolFile(filepath.Join(t.TempDir(), spoolFile))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	var es []SpoolEntry
	for i := range spoolWindow {
		e := env(t, command.PairPut, t0, fmt.Sprintf("r%d", i), command.PairBody{Sender: fmt.Sprintf("u%d@b.example", i), IP: "192.0.2.1"})
		ent, _, err := sp.add(e, false, nil, time.Unix(t0, 0))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, ent)
	}
	before := spoolWrites(sp)
	var wg sync.WaitGroup
	for i, e := range es {
		wg.Go(func() {
			if i%2 == 0 {
				e.Attempts++
				if err := sp.update(e); err != nil {
					t.Error(err)
				}
			}
			if err := sp.done(e); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// A commit writes its dirty pages and the meta page: at least two
	// writes, each followed by an fsync.
	writes := spoolWrites(sp) - before
	if writes >= int64(spoolWindow) {
		t.Errorf("filing a round of %d entries took %d page writes, want the few of a shared transaction", spoolWindow, writes)
	}
	t.Logf("filing a round of %d entries: %d page writes", spoolWindow, writes)
	if p, f := sp.counts(); p != 0 || f != 0 {
		t.Fatalf("after filing: %d pending, %d failed, want none", p, f)
	}
}

// spoolWrites is how many page writes the spool file's commits made.
func spoolWrites(sp *spool) int64 {
	st := sp.db.Stats()
	return st.TxStats.GetWrite()
}
