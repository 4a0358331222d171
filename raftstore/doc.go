// Package raftstore is the replicated store: it runs hashicorp/raft over a
// raft-boltdb/v2 log, applies command envelopes into the in-memory index
// through a deterministic state machine (the FSM), keeps API tokens, the
// verification state (challenges, forgery suppressions, rate-limit windows)
// and the request-ID window in replicated state, and streams snapshots. A
// node without a quorum keeps registrations and confirmations in a durable
// local spool and commits them once a leader is back; the store also serves
// leader-consistent reads, backups and restores.
//
// It owns the meaning of every command (validation, conflicts, IDs, batches)
// and the snapshot format. It must not serve DNS or HTTP, read a clock or a
// random source inside the FSM, or let anything but the FSM write the index:
// admin and the other writers change data only through Store.Apply, and the
// DNS side only reads Index().Load().
package raftstore
