// Package raftstore is the replicated store: it runs hashicorp/raft over a
// raft-boltdb/v2 log and hands every committed entry to the state machine
// (package fsm) through raftFSM, which also keeps what the store knows of
// the log (applied index, bytes since the last snapshot, the latest
// entries' sizes), times snapshots and wakes waiters once entries apply.
// Around it: group commit, cluster membership (join, removal, status,
// promotion) and forwarding writes to the leader, a durable local spool for
// registrations and confirmations taken without a quorum, leader-consistent
// reads, backups and restores, recovery, and the data folder's guards.
// Snapshots are taken by size and once writes go quiet (autosnapshot.go);
// at start the newest one is restored from its mapped file before raft
// starts, and after an import the index is swapped for the quiet
// snapshot's mapped file (mapped.go). A leader writes binary log entries
// only while every member says it reads them (binary.go).
//
// It checks proposals before they reach the log (fsm.CheckProposal, and a
// zone record's RDATA itself) and must not let anything but the FSM write
// the index: admin and the other writers change data only through
// Store.Apply, and the DNS side only reads Index().Load().
package raftstore
