package raftstore

import (
	"fmt"
	"strings"

	"github.com/hashicorp/raft"
)

// NotMember reports, when this node's ID is missing from the newest
// cluster configuration it knows, what that means and what to do; nil while
// it is a member or knows no configuration yet (a new node). A member that
// is removed receives the configuration without itself (the leader
// replicates up to it before it stops), and a leader that removes itself
// holds it too; a node whose node-id file no longer names it sees the same.
// A node still catching up after joining can also hold only configurations
// from before its join: that clears once the entry that added it arrives.
func (s *Store) NotMember() error {
	conf, err := s.configuration()
	if err != nil || len(conf.Servers) == 0 {
		return nil
	}
	ids := make([]string, 0, len(conf.Servers))
	for _, srv := range conf.Servers {
		if srv.ID == raft.ServerID(s.id) {
			return nil
		}
		ids = append(ids, string(srv.ID))
	}
	return fmt.Errorf("not a cluster member: this node's ID %s is not in the newest cluster configuration it knows "+
		"(members: %s). It was removed from the cluster (wlns cluster remove), or its node-id file is damaged "+
		"(or, rarely, the configuration in its newest raft/snapshots/*/meta.json). "+
		"A removed node: stop it; to bring the machine back, move its data folder aside and start it with --join as a new node. "+
		"A damaged node-id: write the right ID back into it and restart",
		s.id, strings.Join(ids, ", "))
}
