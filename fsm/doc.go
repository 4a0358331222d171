// Package fsm is the deterministic state machine: it applies committed
// command envelopes (package command) into the index and the replicated
// token, challenge, zone and dismissal state, writes that state as a
// snapshot and reads it back, or keeps its flat parts where they lie in
// bytes the store mapped (RestoreInPlace). The same log gives the same
// state, and the same snapshot bytes, on every node.
//
// Nothing here reads a clock, a random source, the network or the file
// system: times travel in the envelopes, IDs come from a counter in the
// state. The package's imports make that a compile-time fact, and
// purity_test.go checks them (go list -deps, and no time.Now in its
// files). Raft, the log, metrics and waiting for entries are the
// store's (package raftstore), which hands the FSM its entries.
//
// Each command kind registers how it applies (kind.go) beside its apply
// code; command.Kind is the wire's part of the same kind.
package fsm
