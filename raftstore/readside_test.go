package raftstore

import (
	"testing"

	"github.com/wlns/wlns/index"
)

// The index a store hands its readers (the zone, the API, the console,
// WHOIS, expiry) cannot begin a transaction, not even after a type
// assertion: before, Store.Index() was the fsm's own *index.Index, one
// assertion from Begin and a write that bypasses the log.
func TestStore_IndexIsTheReadSideOnly(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	readers := []struct {
		name string
		r    index.Reader
	}{
		{"Store.Index", s.Index()},
	}
	for _, tc := range readers {
		if _, ok := tc.r.(*index.Index); ok {
			t.Errorf("%s is the writable *index.Index", tc.name)
		}
		if _, ok := tc.r.(interface{ Begin() *index.Txn }); ok {
			t.Errorf("%s can begin a transaction", tc.name)
		}
		if tc.r.Load() == nil {
			t.Errorf("%s loads no View", tc.name)
		}
	}
}
