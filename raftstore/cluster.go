package raftstore

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/nodenet"
)

// HashJoinToken returns the hex SHA-256 of a join secret, the form
// Config.JoinTokenHash holds.
func HashJoinToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// checkJoinToken compares the hash of secret with the configured one in
// constant time.
func (s *Store) checkJoinToken(secret string) bool {
	want, err := hex.DecodeString(s.cfg.JoinTokenHash)
	if err != nil || len(want) != sha256.Size || secret == "" {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(want, got[:]) == 1
}

// join handles a join request. peer is the node ID in the caller's
// certificate; it must be the joining node, or a member that passes the
// request on (having checked it). A follower forwards to the leader.
func (s *Store) join(ctx context.Context, req nodenet.JoinRequest, peer string) (nodenet.JoinResponse, error) {
	switch {
	case !req.Forwarded && req.NodeID != peer:
		return nodenet.JoinResponse{}, fmt.Errorf("%w: the certificate is for node %q, the request for %q", ErrForbidden, peer, req.NodeID)
	case req.Forwarded && !s.hasMember(peer):
		return nodenet.JoinResponse{}, fmt.Errorf("%w: node %q passed on a join but is not a member", ErrForbidden, peer)
	}
	if !s.checkJoinToken(req.Token) {
		return nodenet.JoinResponse{}, fmt.Errorf("%w: wrong join token", ErrForbidden)
	}
	if _, _, err := net.SplitHostPort(req.Addr); err != nil || req.NodeID == "" {
		return nodenet.JoinResponse{}, fmt.Errorf("%w: a join needs a node ID and a host:port address", ErrInvalidCommand)
	}
	if !s.IsLeader() {
		if req.Forwarded {
			return nodenet.JoinResponse{}, ErrNotLeader
		}
		addr, err := s.waitLeader(ctx)
		if err != nil {
			return nodenet.JoinResponse{}, err
		}
		req.Forwarded = true
		jr, err := s.cfg.Net.Join(ctx, addr, req)
		return jr, fromRemote(err)
	}
	return s.addMember(ctx, req)
}

// addMember makes the leader's configuration hold the joining node: a
// no-op when it already does, else a new non-voter, which the watch loop
// promotes once it has caught up and stayed healthy (promote.go): a node
// that dies while it installs a large snapshot then never counted towards
// the quorum. With a negative Config.PromoteAfter a new node is a voter at
// once while there are fewer than Config.Voters. Another member at the
// same address is removed first (a re-used address). A known ID is
// checkTakeover's business.
func (s *Store) addMember(ctx context.Context, req nodenet.JoinRequest) (nodenet.JoinResponse, error) {
	id, addr := req.NodeID, req.Addr
	conf, err := s.configuration()
	if err != nil {
		return nodenet.JoinResponse{}, err
	}
	jr := nodenet.JoinResponse{LeaderID: s.id}
	voters, known := 0, (*raft.Server)(nil)
	for i, srv := range conf.Servers {
		switch {
		case srv.ID == raft.ServerID(id):
			known = &conf.Servers[i]
		case srv.Address == raft.ServerAddress(addr):
			if err := wait(ctx, s.raft.RemoveServer(srv.ID, 0, s.timeout(ctx))); err != nil {
				return jr, fmt.Errorf("removing %s, which had address %s: %w", srv.ID, addr, err)
			}
			s.log.Info("removed member with a re-used address", "node_id", srv.ID, "addr", addr)
			continue
		}
		if srv.Suffrage == raft.Voter {
			voters++
		}
	}
	s.binary.off(raft.ServerID(id)) // until the newcomer says what it reads
	if known != nil {
		keep, err := s.checkTakeover(ctx, req, *known)
		if err != nil || keep {
			jr.Voter = known.Suffrage == raft.Voter
			return jr, err
		}
		if known.Suffrage == raft.Voter {
			voters--
		}
	}
	jr.Voter = known != nil && known.Suffrage == raft.Voter && !req.Empty ||
		(known == nil || req.Empty) && s.cfg.PromoteAfter < 0 && voters < s.cfg.Voters
	var f raft.IndexFuture
	if jr.Voter {
		f = s.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.timeout(ctx))
	} else {
		f = s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.timeout(ctx))
	}
	if err := wait(ctx, f); err != nil {
		return jr, fmt.Errorf("adding %s at %s: %w", id, addr, err)
	}
	jr.Changed = true
	s.log.Info("member added", "node_id", id, "addr", addr, "voter", jr.Voter, "updated", known != nil, "replace", req.Replace)
	return jr, nil
}

// checkTakeover decides a join under the ID of a member already in the
// configuration. The same address is the member itself coming back: kept
// as it is (keep), unless it comes back without its Raft state as a voter.
// A different address would take the member over: refused while the member
// answers there as that ID, unless the join says Replace. Where the join
// goes on, the member is first taken out, so that it comes back with the
// joiner's address and, when the joiner is empty, as a non-voter.
func (s *Store) checkTakeover(ctx context.Context, req nodenet.JoinRequest, known raft.Server) (keep bool, err error) {
	same := known.Address == raft.ServerAddress(req.Addr)
	switch {
	case known.ID == raft.ServerID(s.id):
		return false, fmt.Errorf("%w: node ID %s is the leader's own ID: give the new node its own ID (its own certificate)", ErrForbidden, req.NodeID)
	case same && !(req.Empty && known.Suffrage == raft.Voter):
		return true, nil
	case !same && !req.Replace && s.answersAs(ctx, string(known.Address), req.NodeID):
		return false, fmt.Errorf("%w: node ID %s is a live member at %s (it answered just now); joining under its ID would take it over. "+
			"Give the new node its own ID (its own certificate), or, to replace that member, start the new node with --replace",
			ErrForbidden, req.NodeID, known.Address)
	}
	if err := wait(ctx, s.raft.RemoveServer(known.ID, 0, s.timeout(ctx))); err != nil {
		return false, fmt.Errorf("taking out %s at %s to add it again: %w", known.ID, known.Address, err)
	}
	s.log.Warn("member taken out to be added again", "node_id", known.ID, "old_addr", known.Address, "new_addr", req.Addr,
		"replace", req.Replace, "empty", req.Empty)
	return false, nil
}

// answersAs reports whether the inter-node port at addr answers a status
// request as node id, within memberProbe.
func (s *Store) answersAs(ctx context.Context, addr, id string) bool {
	if s.cfg.Net == nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, memberProbe)
	defer cancel()
	st, err := s.cfg.Net.Status(pctx, addr)
	return err == nil && st.NodeID == id
}

// configuration returns the latest Raft configuration.
func (s *Store) configuration() (raft.Configuration, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, fmt.Errorf("reading the raft configuration: %w", err)
	}
	return f.Configuration(), nil
}

// waitLeader waits up to ForwardHold for a leader and returns its address.
func (s *Store) waitLeader(ctx context.Context) (string, error) {
	hold := time.Now().Add(s.cfg.ForwardHold)
	for {
		if _, addr := s.Leader(); addr != "" {
			return addr, nil
		}
		if time.Now().After(hold) {
			return "", fmt.Errorf("%w within %v", ErrNoLeader, s.cfg.ForwardHold)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
		case <-time.After(retryPause):
		}
	}
}

// hasMember reports whether node id is in the latest configuration.
func (s *Store) hasMember(id string) bool {
	conf, err := s.configuration()
	return err == nil && slices.ContainsFunc(conf.Servers, func(srv raft.Server) bool { return srv.ID == raft.ServerID(id) })
}

// IsMember reports whether this node is in its own Raft configuration at
// its current address: a node with existing state rejoins by itself and
// needs no join. A member whose address changed must join again (the
// leader then updates the address).
func (s *Store) IsMember() bool {
	conf, err := s.configuration()
	if err != nil {
		return false
	}
	return slices.ContainsFunc(conf.Servers, func(srv raft.Server) bool {
		return srv.ID == raft.ServerID(s.id) && srv.Address == raft.ServerAddress(s.Addr())
	})
}

// JoinCluster asks the member at addr to add this node, retrying transport
// errors and elections until ctx ends. A refusal (wrong token, certificate
// for another node) is returned at once.
func (s *Store) JoinCluster(ctx context.Context, addr, token string) error {
	if s.cfg.Net == nil {
		return errors.New("joining a cluster needs the inter-node TLS port")
	}
	req := nodenet.JoinRequest{NodeID: s.id, Addr: s.Addr(), Token: token, Replace: s.cfg.Replace, Empty: s.raft.LastIndex() == 0}
	for {
		jr, err := s.cfg.Net.Join(ctx, addr, req)
		if err == nil {
			s.log.Info("joined the cluster", "via", addr, "leader", jr.LeaderID, "voter", jr.Voter, "changed", jr.Changed)
			return nil
		}
		err = fromRemote(err)
		if errors.Is(err, ErrForbidden) || errors.Is(err, ErrInvalidCommand) {
			return fmt.Errorf("joining through %s: %w", addr, err)
		}
		if nodenet.IsAuthError(err) {
			return fmt.Errorf("joining through %s: %w: the certificates do not trust each other: %w", addr, ErrForbidden, err)
		}
		s.log.Warn("join attempt failed; retrying", "via", addr, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("joining through %s: %w (last error: %w)", addr, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// RemoveMember removes node id from the cluster, on the leader or by
// forwarding to it.
func (s *Store) RemoveMember(ctx context.Context, id string) error {
	if !s.IsLeader() {
		if s.cfg.Net == nil {
			return ErrNotLeader
		}
		addr, err := s.waitLeader(ctx)
		if err != nil {
			return err
		}
		return fromRemote(s.cfg.Net.Remove(ctx, addr, id))
	}
	conf, err := s.configuration()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(conf.Servers, func(srv raft.Server) bool { return srv.ID == raft.ServerID(id) }) {
		return fmt.Errorf("%w: %q", ErrNotMember, id)
	}
	if err := wait(ctx, s.raft.RemoveServer(raft.ServerID(id), 0, s.timeout(ctx))); err != nil {
		return fmt.Errorf("removing %s: %w", id, err)
	}
	s.log.Info("member removed", "node_id", id)
	return nil
}

// Member is one node of the cluster as this node sees it.
type Member struct {
	// ID and Address are the Raft server ID and inter-node address.
	ID      string `json:"id"`
	Address string `json:"address"`
	// Voter is false for a non-voting mirror.
	Voter bool `json:"voter"`
	// Leader is true for the leader this node knows.
	Leader bool `json:"leader"`
	// Self marks the node that answered.
	Self bool `json:"self"`
	// Reachable is false when the member did not answer a status request;
	// Error then says why and the fields below are unknown.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// State is the member's Raft state (Leader, Follower, Candidate).
	State string `json:"state,omitempty"`
	// AppliedIndex is the last log index the member applied; CommitIndex
	// the highest it knows to be committed.
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	// Lag is how many entries the member is behind the leader's commit index.
	Lag uint64 `json:"lag"`
	// LastContact is the seconds since the member heard from the leader
	// (0 on the leader, -1 never).
	LastContact float64 `json:"last_contact_seconds"`
}

// memberProbe bounds the status request to one member.
const memberProbe = 2 * time.Second

// Members lists the members of the latest configuration with each one's
// own view of its state, asked over the inter-node port (in parallel,
// bounded per member).
func (s *Store) Members(ctx context.Context) ([]Member, error) {
	conf, err := s.configuration()
	if err != nil {
		return nil, err
	}
	leaderID, _ := s.Leader()
	out := make([]Member, len(conf.Servers))
	done := make(chan struct{}, len(conf.Servers))
	for i, srv := range conf.Servers {
		out[i] = Member{ID: string(srv.ID), Address: string(srv.Address), Voter: srv.Suffrage == raft.Voter,
			Leader: string(srv.ID) == leaderID, Self: string(srv.ID) == s.id}
		go func(m *Member) {
			defer func() { done <- struct{}{} }()
			s.probe(ctx, m)
		}(&out[i])
	}
	for range conf.Servers {
		<-done
	}
	var commit uint64
	for _, m := range out {
		if m.Leader && m.Reachable {
			commit = m.CommitIndex
		}
	}
	if commit == 0 {
		commit = s.raft.CommitIndex()
	}
	for i := range out {
		if out[i].Reachable && out[i].AppliedIndex < commit {
			out[i].Lag = commit - out[i].AppliedIndex
		}
	}
	return out, nil
}

// probe fills m from the member's own status.
func (s *Store) probe(ctx context.Context, m *Member) {
	var st nodenet.NodeStatus
	if m.Self {
		st = s.localStatus()
	} else if s.cfg.Net == nil {
		m.Error = "no inter-node port"
		return
	} else {
		pctx, cancel := context.WithTimeout(ctx, memberProbe)
		defer cancel()
		var err error
		if st, err = s.cfg.Net.Status(pctx, m.Address); err != nil {
			m.Error = err.Error()
			return
		}
	}
	m.Reachable, m.State, m.LastContact = true, st.State, st.LastContact
	m.AppliedIndex, m.CommitIndex = st.AppliedIndex, st.CommitIndex
}
