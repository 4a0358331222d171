package raftstore

import (
	"errors"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
)

// Errors Store.Apply and Store.WaitReady return when a command could not be
// committed. A rejected command is not an error: it is a command.Result with
// Err set. Callers translate these at their boundary (for example
// ErrNotLeader into forwarding or HTTP 503).
var (
	// ErrNotLeader means this node is not the leader and cannot propose; the
	// command was not applied.
	ErrNotLeader = errors.New("not the raft leader")
	// ErrLeadershipLost means leadership was lost after the command was
	// proposed: it may still commit under the next leader (outcome unknown;
	// retry with the same ReqID).
	ErrLeadershipLost = errors.New("raft leadership lost; outcome unknown")
	// ErrTimeout means the context ended or raft did not accept the command in
	// time; the outcome is unknown (retry with the same ReqID).
	ErrTimeout = errors.New("raft apply timed out; outcome unknown")
	// ErrClosed means the store is shut down.
	ErrClosed = errors.New("raft store closed")
	// ErrNoLeader means no leader was known within the forward hold time;
	// nothing was applied.
	ErrNoLeader = errors.New("no raft leader; nothing was applied")
	// ErrForbidden means a join was refused (wrong join token, or a
	// certificate for another node ID).
	ErrForbidden = errors.New("join refused")
	// ErrNotMember means the named node is not in the cluster.
	ErrNotMember = errors.New("not a cluster member")
	// ErrDiskFull means this node's data folder has no room for its Raft
	// log (free space below Config.DiskReserve, or a log write failed for
	// want of space) and it would have to propose the command itself (it
	// leads, or runs alone); nothing was applied. It clears by itself once there is
	// room again.
	ErrDiskFull = errors.New("disk full")
	// ErrInvalidCommand means the envelope cannot be proposed at all (wrong
	// version, unknown type, undecodable body, too large); nothing was sent
	// to raft.
	ErrInvalidCommand = command.ErrInvalidEnvelope
)

// ErrCorruptSnapshot means a snapshot stream is truncated, fails its
// checksum or does not parse; restoring it changed nothing.
var ErrCorruptSnapshot = fsm.ErrCorruptSnapshot
