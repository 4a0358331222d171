package raftstore

import "testing"

func TestLogTail_KeepFrom(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cap      uint64
		sizes    []uint64 // entries 1, 2, ... in order
		budget   uint64
		wantFrom uint64
		wantOK   bool
	}{
		{"empty", 4, nil, 10, 0, false},
		{"everything fits", 4, []uint64{1, 2, 3}, 10, 0, false},
		{"the latest two fit", 4, []uint64{5, 4, 3, 3}, 7, 3, true},
		{"the newest alone is too big", 4, []uint64{1, 20}, 10, 3, true},
		{"a full ring that fits keeps its count", 2, []uint64{9, 9, 1, 1}, 10, 0, false},
		{"a wrapped ring", 3, []uint64{1, 1, 8, 1, 1}, 5, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lt := newLogTail(tc.cap)
			for i, n := range tc.sizes {
				lt.add(uint64(i+1), n)
			}
			from, ok := lt.keepFrom(tc.budget)
			if from != tc.wantFrom || ok != tc.wantOK {
				t.Fatalf("keepFrom(%d) = %d, %v; want %d, %v", tc.budget, from, ok, tc.wantFrom, tc.wantOK)
			}
			lt.reset()
			if _, ok := lt.keepFrom(0); ok {
				t.Fatal("a reset tail still bounds the log")
			}
		})
	}
}
