package raftstore

import "github.com/hashicorp/raft"

// noPipeline is the Raft transport with pipeline replication turned off:
// the leader sends each follower one AppendEntries at a time. In
// hashicorp/raft v1.7.3 a pipelined follower that answers Success=false
// (its log write failed, e.g. on a full disk) ends the response decoder
// while the sender may park on the full in-flight channel for good; the
// leader then never sends that follower another entry while its
// heartbeats keep it from calling an election (hashicorp/raft#612; found
// by TestSoak_FiveNodesUnderChaosLoseNothingAndLeakNothing).
type noPipeline struct{ *raft.NetworkTransport }

// AppendEntriesPipeline tells Raft to replicate without a pipeline.
func (noPipeline) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}
