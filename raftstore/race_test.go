//go:build race

package raftstore

// raceEnabled says the race detector is on: its shadow pages fault on
// first writes, so page-fault counts mean nothing.
const raceEnabled = true
