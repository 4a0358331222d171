package raftstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// ErrDataInUse means a running node holds the data folder (its Raft log
// is locked); Recover changed nothing.
var ErrDataInUse = errors.New("the data folder is in use by a running node: stop wlns serve first")

// recoverLockWait is how long Recover waits for the Raft log's file lock
// before it concludes that a node is running on the folder.
const recoverLockWait = time.Second

// Survivor is a node that takes part in a recovered cluster: its Raft
// server ID and the inter-node address the others dial (the address
// `wlns cluster status` lists for it). NonVoter keeps a surviving mirror a
// non-voter; it needs the recovery like the voters.
type Survivor struct {
	ID       string
	Address  string
	NonVoter bool
}

// RecoverReport says what Recover did on one node.
type RecoverReport struct {
	// NodeID is the node whose data folder was recovered.
	NodeID string
	// Old is the configuration the node held before, New the one it
	// starts with (only ID, Address and Voter are set).
	Old, New []Member
	// SnapshotIndex is the index of the snapshot the node held before; the
	// log entries after it, up to LastIndex (of LastTerm), were applied on
	// top and are now held as committed in the recovery snapshot.
	SnapshotIndex       uint64
	LastIndex, LastTerm uint64
	// Warnings are things the operator should check: survivors this node
	// did not know, changed addresses, a majority that was still there.
	Warnings []string
	// Took is how long the recovery ran.
	Took time.Duration
}

// Recover forces the Raft configuration of the stopped node whose data
// folder is dataDir to hold exactly the survivors, as voters unless marked
// NonVoter, so that
// a cluster which lost its quorum for good can elect a leader again. It
// must run, with the same survivors, on every survivor while all of them
// are stopped, before they start again. The node itself must be one of
// the survivors.
//
// It replays the node's snapshot and log through a fresh FSM into a new
// snapshot that carries the new configuration, and empties the log: every
// entry the node held counts as committed, including ones the old cluster
// never committed, and what was committed only on the lost nodes is gone.
// The write spool is left alone; it commits once a leader is back.
//
// It refuses, changing nothing, an empty or malformed survivor list, a
// folder without a node ID or Raft state, a node not among the survivors,
// and a folder a running node holds (ErrDataInUse).
func Recover(ctx context.Context, dataDir string, survivors []Survivor, logger *slog.Logger) (RecoverReport, error) {
	return recoverNode(ctx, dataDir, survivors, logger, false)
}

// PlanRecovery makes every check Recover makes and reports what it would
// do (Old, New, Warnings, and LastIndex as the node's log ends now),
// changing nothing.
func PlanRecovery(ctx context.Context, dataDir string, survivors []Survivor, logger *slog.Logger) (RecoverReport, error) {
	return recoverNode(ctx, dataDir, survivors, logger, true)
}

// recoverNode is Recover, or with plan PlanRecovery.
func recoverNode(ctx context.Context, dataDir string, survivors []Survivor, logger *slog.Logger, plan bool) (RecoverReport, error) {
	start := time.Now()
	if logger == nil {
		logger = slog.Default()
	}
	rep := RecoverReport{}
	if err := checkSurvivors(survivors); err != nil {
		return rep, err
	}
	id, err := storedNodeID(dataDir)
	if err != nil {
		return rep, err
	}
	rep.NodeID = id
	if !isSurvivor(survivors, id) {
		return rep, fmt.Errorf("this node (%s) is not among the survivors %s: list every survivor, this one included, and run the same command on each", id, survivorIDs(survivors))
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("recovering %s: %w", dataDir, err)
	}
	if err := recoverStores(dataDir, id, survivors, logger, plan, &rep); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	if plan {
		return rep, nil
	}
	logger.Info("raft configuration recovered", "component", "raftstore", "node_id", id,
		"old", memberList(rep.Old), "new", memberList(rep.New), "last_index", rep.LastIndex, "took", rep.Took)
	return rep, nil
}

// recoverStores opens the node's stores as Open does and runs raft's
// recovery on them, or with plan only reports what it would do.
func recoverStores(dataDir, id string, survivors []Survivor, logger *slog.Logger, plan bool, rep *RecoverReport) error {
	st, err := openOffline(dataDir, logger)
	if err != nil {
		return err
	}
	defer st.close()
	old, snapIndex, err := latestConfiguration(st.bolt, st.snaps)
	if err != nil {
		return err
	}
	rep.Old, rep.SnapshotIndex = membersOf(old), snapIndex
	conf := survivorConfiguration(survivors)
	rep.New = membersOf(conf)
	rep.Warnings = recoverWarnings(old, survivors)
	if plan {
		last, err := st.bolt.LastIndex()
		if err != nil {
			return fmt.Errorf("reading the raft log: %w", err)
		}
		rep.LastIndex = max(last, snapIndex)
		return nil
	}
	return runRecovery(id, st.hl, st.bolt, st.snaps, conf, rep)
}

// runRecovery replays the state through a throw-away FSM into a snapshot
// holding conf, and reports where it ends.
func runRecovery(id string, hl *hcLogger, bolt *raftboltdb.BoltStore, snaps raft.SnapshotStore,
	conf raft.Configuration, rep *RecoverReport) (err error) {
	// The FSM panics on an entry it cannot apply (one a newer wlns wrote);
	// that happens before raft writes anything, so it is a refusal.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("recovering the raft configuration: nothing was changed: %v (a newer wlns wrote this log? recover with that version)", p)
		}
	}()
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(id)
	rc.Logger = hl
	// The transport only encodes peer addresses into the snapshot's
	// legacy peer list; nothing is sent.
	_, trans := raft.NewInmemTransport("")
	defer trans.Close()
	if err := raft.RecoverCluster(rc, newRaftFSM(hl.base, nil), bolt, bolt, snaps, trans, conf); err != nil {
		return fmt.Errorf("recovering the raft configuration: %w", err)
	}
	metas, err := snaps.List()
	if err != nil || len(metas) == 0 {
		return fmt.Errorf("listing the recovery snapshot: %w", errors.Join(err, errors.New("none written")))
	}
	rep.LastIndex, rep.LastTerm = metas[0].Index, metas[0].Term
	return nil
}
