package raftstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
)

// A backup restored into a fresh store ends past the serial the store
// showed and past the time of the restore (secondaries of the lost
// cluster may hold a serial up to then), and keeps it across a restart:
// the raise is a log entry after the restored snapshot, not a local max.
func TestBackup_RestoredSerialIsPastTheClusterAndSurvivesARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := openStore(t, t.TempDir(), nil)
	mustApply(t, src, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "198.51.100.7"})
	var backup bytes.Buffer
	if _, err := src.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	old := src.Index().Load().ZoneSerial()
	for time.Now().Unix() <= int64(old) {
		time.Sleep(50 * time.Millisecond)
	}
	dir := t.TempDir()
	dst := openStore(t, dir, nil)
	mustApply(t, dst, command.TokenPut, "", command.TokenBody{Name: "admin-1", Hash: secretHash("a"), Role: "admin"})
	start := uint32(time.Now().Unix())
	if _, err := dst.RestoreBackup(ctx, bytes.NewReader(backup.Bytes())); err != nil {
		t.Fatal(err)
	}
	restored := dst.Index().Load().ZoneSerial()
	if !fsm.SerialBefore(start, restored) || !fsm.SerialBefore(old, restored) {
		t.Fatalf("zone serial after the restore %d; want past the restore's time %d and the backup's %d", restored, start, old)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	again := openStore(t, dir, nil)
	eventually(t, 10*time.Second, "the restored pair after the restart", func() bool { return again.Index().Load().Counts().Pairs == 1 })
	if got := again.Index().Load().ZoneSerial(); got != restored {
		t.Fatalf("zone serial after a restart %d, want %d as before it", got, restored)
	}
}
