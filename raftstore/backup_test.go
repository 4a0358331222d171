package raftstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

func TestBackup_RoundTripIntoAFreshStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := openStore(t, t.TempDir(), nil)
	mustApply(t, src, command.EntityPut, "", command.EntityBody{Group: true, Name: "umkc", Prefixes: []string{"198.51.100.0/24"}})
	mustApply(t, src, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "198.51.100.7"})
	mustApply(t, src, command.VerpPut, "", command.VerpBody{Domain: "lists.example", IP: "192.0.2.1"})
	mustApply(t, src, command.TokenPut, "", command.TokenBody{Name: "ops", Hash: secretHash("s"), Role: "admin"})

	var first, second bytes.Buffer
	if _, err := src.Backup(ctx, &first); err != nil {
		t.Fatal(err)
	}
	// Nothing new since: the same snapshot is read again.
	if n, err := src.Backup(ctx, &second); err != nil || n == 0 || !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("second backup: %d bytes %v, want the same bytes as the first", n, err)
	}

	dst := openStore(t, t.TempDir(), nil)
	counts, err := dst.RestoreBackup(ctx, bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if counts != (BackupCounts{Entities: 2, Pairs: 1, Verps: 1, Tokens: 1}) {
		t.Fatalf("restored counts %+v", counts)
	}
	v := dst.Index().Load()
	if id := entityIDOf(v, "198.51.100.7"); id == 0 || v.Pair(id, []byte("dave@umkc.edu")) == nil {
		t.Fatal("the restored store does not hold the pair")
	}
	if dst.Token(secretHash("s")) == nil {
		t.Fatal("the restored store does not hold the backup's token")
	}
	// Writes go on after a restore: IDs continue after the backup's.
	r := mustApply(t, dst, command.EntityPut, "", command.EntityBody{Prefixes: []string{"203.0.113.9"}})
	if r.ID != 3 {
		t.Fatalf("new entity after restore got ID %d, want 3", r.ID)
	}

	if _, err := dst.RestoreBackup(ctx, bytes.NewReader(first.Bytes())); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a store with data: %v, want ErrNotEmpty", err)
	}
}

func TestBackup_TruncatedFileChangesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := openStore(t, t.TempDir(), nil)
	mustApply(t, src, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "198.51.100.7"})
	var b bytes.Buffer
	if _, err := src.Backup(ctx, &b); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t, t.TempDir(), nil)
	for _, cut := range []int{0, 10, b.Len() / 2, b.Len() - 1} {
		if _, err := dst.RestoreBackup(ctx, bytes.NewReader(b.Bytes()[:cut])); !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("restore of %d of %d bytes: %v, want ErrCorruptSnapshot", cut, b.Len(), err)
		}
	}
	if c := dst.Index().Load().Counts(); c.Entities+c.Pairs != 0 {
		t.Fatalf("a refused restore changed the store: %+v", c)
	}
	if _, err := dst.RestoreBackup(ctx, bytes.NewReader(b.Bytes())); err != nil {
		t.Fatalf("the whole backup after refused ones: %v", err)
	}
}
