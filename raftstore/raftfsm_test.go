package raftstore

import (
	"errors"
	"testing"
)

// failSink fails every write.
type failSink struct{ cancelled bool }

func (s *failSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }
func (s *failSink) ID() string                { return "fail" }
func (s *failSink) Close() error              { return nil }
func (s *failSink) Cancel() error             { s.cancelled = true; return nil }

func TestSnapshot_PersistCancelsSinkOnError(t *testing.T) {
	snap, err := newRaftFSM(quietLogger(), nil).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &failSink{}
	if err := snap.Persist(sink); err == nil || !sink.cancelled {
		t.Fatalf("err %v, cancelled %v", err, sink.cancelled)
	}
}
