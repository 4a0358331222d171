// Package expiry decides what a node reports as seen and what the cluster
// forgets: it turns the local seen marks the DNS server sets on every
// positive answer (record.Meta.MarkSeen) into compact, periodic touch
// commands, and on the leader schedules expire commands whose cutoff times
// come from the leader's clock and travel inside the log entry.
//
// It owns the selection (which records to report, in what chunks), the
// schedule and the per-kind windows. It must not write the index: it only
// reads index.View and proposes commands through Proposer; the state
// machine (raftstore) applies them deterministically.
package expiry
