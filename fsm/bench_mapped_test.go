//go:build unix

package fsm

import (
	"log/slog"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// BenchmarkSnapshot_Restore10MPairsFromMappedFile is a restart's restore
// at the size as raftstore makes it: the snapshot file mapped
// privately, checked in one CRC-32C pass and served where it lies
// (RestoreInPlace). Run it under flock /tmp/wlns-big.lock.
func BenchmarkSnapshot_Restore10MPairsFromMappedFile(b *testing.B) {
	benchRestoreMapped(b, 1_000_000, 10_000_000)
}

// BenchmarkSnapshot_Restore3MPairsFromMappedFile is the same with 3M pairs.
func BenchmarkSnapshot_Restore3MPairsFromMappedFile(b *testing.B) {
	benchRestoreMapped(b, 1_000_000, 3_000_000)
}

func benchRestoreMapped(b *testing.B, relays, pairs int) {
	path := writeBigSnapshot(b, relays, pairs)
	runtime.GC()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		data := mapForBench(b, path)
		f := NewFSM(slog.New(slog.DiscardHandler), nil)
		r, err := f.RestoreInPlace(data)
		if err != nil {
			b.Fatal(err)
		}
		if c := f.Index().Load().Counts(); c.Pairs != pairs || c.Entities != relays || r.InPlace < int64(len(data))/2 {
			b.Fatalf("%+v after restore, %d bytes in place", c, r.InPlace)
		}
		b.StopTimer()
		f = nil
		runtime.GC()
		if err := syscall.Munmap(data); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportCPU(b, cpu)
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restore")
}

// mapForBench maps path as raftstore's mapFile does.
func mapForBench(b *testing.B, path string) []byte {
	fd, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		b.Fatal(err)
	}
	data, err := syscall.Mmap(int(fd.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
