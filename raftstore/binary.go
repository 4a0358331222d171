package raftstore

import (
	"context"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

// Binary entries: a leader writes the single writes and their groups as
// binary log entries (command.BinaryVersion: no JSON to decode on any
// node's apply) only while every member of the configuration is known to
// read them, so a cluster that still has a member on an older build keeps
// writing the JSON entries it applies. The watch loop asks each member's
// status once a second (nodenet.NodeStatus.Reads). Answers count only in
// the leader's term they were given in: a node that leads again (even
// within one tick, after another leader took a join) starts from nothing
// heard. Within a term, a member that does not answer keeps what it said
// last, one never heard from counts as old, and a join (also a member
// coming back at its own address) forgets the joining member's answer and
// turns binary entries off until it has answered again. An older build
// that meets a binary entry anyway (one written before it joined, or a
// node downgraded in place) stops, as for any newer entry, and goes on
// once upgraded.
type binaryGate struct {
	mu    sync.Mutex
	reads map[raft.ServerID]int // what each member said last, in term
	on    bool
	term  uint64 // the leader's term the answers and on belong to
	// gen counts the calls of off: a check that began before one (it may
	// not have seen the newcomer) does not turn binary entries on.
	gen uint64
}

// allowed reports whether this leader, now in term, may write binary
// entries.
func (g *binaryGate) allowed(term uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.on && g.term == term
}

// off turns binary entries off until the next check (a member joins, or
// this node stopped leading) and forgets what the members in forget said.
func (g *binaryGate) off(forget ...raft.ServerID) {
	g.mu.Lock()
	g.on = false
	g.gen++
	for _, id := range forget {
		delete(g.reads, id)
	}
	g.mu.Unlock()
}

// generation is the count of off calls so far.
func (g *binaryGate) generation() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gen
}

// set records what members said in a check begun in term and whether
// every member of conf reads binary entries; a check begun before the
// latest off (gen) cannot turn them on, and answers of an earlier term are
// forgotten.
func (g *binaryGate) set(term, gen uint64, said map[raft.ServerID]int, conf raft.Configuration, self raft.ServerID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reads == nil || term != g.term {
		g.reads = map[raft.ServerID]int{}
		g.term = term
	}
	for id, v := range said {
		g.reads[id] = v
	}
	on := true
	for _, srv := range conf.Servers {
		if srv.ID != self && g.reads[srv.ID] < command.BinaryVersion {
			on = false
		}
	}
	g.on = on && gen == g.gen
}

// checkBinary asks every other member of the configuration for its
// status and updates the gate (the leader's watch loop). Without an
// inter-node port only a configuration of this node alone can be known to
// read them.
func (s *Store) checkBinary() {
	gen := s.binary.generation() // before the configuration is read
	term := s.raft.CurrentTerm()
	conf, err := s.configuration()
	if err != nil {
		return
	}
	said := map[raft.ServerID]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, srv := range conf.Servers {
		if srv.ID == raft.ServerID(s.id) || s.cfg.Net == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), memberProbe)
			defer cancel()
			if st, err := s.cfg.Net.Status(ctx, string(srv.Address)); err == nil {
				mu.Lock()
				said[srv.ID] = st.Reads
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.binary.set(term, gen, said, conf, raft.ServerID(s.id))
}

// encodeEntry is the log entry of e: binary when the gate allows it and
// its kind has a binary form, JSON otherwise.
func (s *Store) encodeEntry(e *command.Envelope) ([]byte, error) {
	if s.binary.allowed(s.raft.CurrentTerm()) {
		if b, ok := e.EncodeBinary(); ok {
			return b, nil
		}
	}
	return e.Encode()
}
