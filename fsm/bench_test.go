package fsm

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// bigFSM builds an FSM holding pairs pairs spread over entities lone relays,
// written straight into the index (building it through commands would take
// most of the benchmark's time).
func bigFSM(entities, pairs int) *FSM {
	f := NewFSM(slog.New(slog.DiscardHandler), nil)
	txn := f.ix.Begin()
	for i := 1; i <= entities; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		e := &record.Entity{ID: uint64(i), Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)}}
		e.Created, e.Updated = t0, t0
		txn.PutEntity(e)
	}
	for i := range pairs {
		p := &record.Pair{Entity: uint64(i%entities + 1), Sender: fmt.Sprintf("user%d@domain%d.example", i, i%5000), By: "api", Method: "link"}
		p.Created, p.Updated = t0+int64(i), t0+int64(i)
		txn.PutPair(p)
	}
	txn.SetSerial(1)
	txn.Commit()
	f.st.lastID = uint64(entities)
	return f
}

var (
	bigOnce sync.Once
	bigSnap []byte
)

// bigSnapshot is the snapshot of a 1M-pair FSM, built once.
func bigSnapshot(b *testing.B) []byte {
	bigOnce.Do(func() { bigSnap = persist(b, bigFSM(100_000, 1_000_000)) })
	return bigSnap
}

func BenchmarkFSM_ApplyBatch1000Into1MPairs(b *testing.B) {
	f := bigFSM(100_000, 1_000_000)
	h := &fsmHarness{tb: b, f: f, idx: 1, now: t0}
	logs := make([][]byte, 0, 64)
	for i := range 64 {
		var body command.BatchBody
		for j := range 1000 {
			body.Commands = append(body.Commands, *env(b, command.PairPut, 0, "", command.PairBody{
				Sender: fmt.Sprintf("new%d-%d@example.net", i, j), IP: fmt.Sprintf("10.0.%d.%d", (i*1000+j)/250%250, j%250+1)}))
		}
		l := h.logs(env(b, command.Batch, t0, "", body))
		logs = append(logs, l[0].Data)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		l := h.logs(env(b, command.PairPut, t0, "", command.PairBody{}))
		l[0].Data = logs[i%len(logs)]
		if r := f.ApplyEntries(l)[0].(command.Result); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "pairs/s")
}

func BenchmarkSnapshot_Persist1MPairs(b *testing.B) {
	f := bigFSM(100_000, 1_000_000)
	snap := f.Capture()
	var n int64
	cpu := cpuTime()
	for b.Loop() {
		var err error
		if n, err = snap.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/1e6, "MB")
	reportCPU(b, cpu)
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/snapshot")
}

func BenchmarkSnapshot_Restore1MPairs(b *testing.B) {
	data := bigSnapshot(b)
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		f := NewFSM(slog.New(slog.DiscardHandler), nil)
		if _, err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/1e6, "MB")
	reportCPU(b, cpu)
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restore")
}

func BenchmarkFSM_EntityDeleteIn1MPairs(b *testing.B) {
	f := bigFSM(100_000, 1_000_000)
	h := &fsmHarness{tb: b, f: f, idx: 1, now: t0}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		r := h.apply(env(b, command.EntityDelete, t0, "", command.EntityBody{ID: uint64(i + 1)}))[0]
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkSnapshot_Restore10MPairsFromFile is a restart's restore at the
// issue's size: 1M lone relays and 10M pairs, snapshotted to a file, the
// FSM dropped, then restored from the file as raft does at start-up. It
// needs about 3 GiB: run it under flock /tmp/wlns-big.lock.
func BenchmarkSnapshot_Restore10MPairsFromFile(b *testing.B) {
	benchRestoreFromFile(b, 1_000_000, 10_000_000)
}

// BenchmarkSnapshot_Restore3MPairsFromFile is the same with 3M pairs
// (about 1 GiB).
func BenchmarkSnapshot_Restore3MPairsFromFile(b *testing.B) {
	benchRestoreFromFile(b, 1_000_000, 3_000_000)
}

// BenchmarkSnapshot_Restore1MRelaysFromFile is the entities' share: 1M
// lone relays and no pairs.
func BenchmarkSnapshot_Restore1MRelaysFromFile(b *testing.B) {
	benchRestoreFromFile(b, 1_000_000, 0)
}

func benchRestoreFromFile(b *testing.B, relays, pairs int) {
	path := writeBigSnapshot(b, relays, pairs)
	runtime.GC()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		fsm := NewFSM(slog.New(slog.DiscardHandler), nil)
		if _, err := fsm.Restore(f); err != nil {
			b.Fatal(err)
		}
		if c := fsm.Index().Load().Counts(); c.Pairs != pairs || c.Entities != relays {
			b.Fatalf("%+v after restore", c)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restore")
}

// writeBigSnapshot writes the snapshot of bigFSM(relays, pairs) to a file
// and returns its path.
func writeBigSnapshot(b *testing.B, relays, pairs int) string {
	path := filepath.Join(b.TempDir(), "state.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	snap := bigFSM(relays, pairs).Capture()
	start, cpu := time.Now(), cpuTime()
	n, err := snap.WriteTo(f)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("persist: %.0f MB in %.1f s, %.1f CPU-s", float64(n)/1e6, time.Since(start).Seconds(), (cpuTime() - cpu).Seconds())
	return path
}

// BenchmarkSnapshot_Restore3MPairsFromStore restores through raft's file
// snapshot store, as a restart does: Open reads the whole file once for
// its CRC-64, then the FSM reads it through raft's buffered reader.
func BenchmarkSnapshot_Restore3MPairsFromStore(b *testing.B) {
	store, err := raft.NewFileSnapshotStoreWithLogger(b.TempDir(), 1, hclog.NewNullLogger())
	if err != nil {
		b.Fatal(err)
	}
	sink, err := store.Create(raft.SnapshotVersionMax, 1, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bigFSM(1_000_000, 3_000_000).Capture().WriteTo(sink); err != nil {
		b.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		_, rc, err := store.Open(sink.ID())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := NewFSM(slog.New(slog.DiscardHandler), nil).Restore(rc); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}
