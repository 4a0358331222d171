package raftstore

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"
)

// checkSurvivors refuses an empty list, a survivor without an ID or a
// host:port address, and a repeated ID or address.
func checkSurvivors(survivors []Survivor) error {
	if len(survivors) == 0 {
		return errors.New("no survivors given: name every surviving node as ID=HOST:PORT")
	}
	ids, addrs := map[string]bool{}, map[string]bool{}
	for _, s := range survivors {
		if s.ID == "" {
			return fmt.Errorf("survivor at %q has no node ID", s.Address)
		}
		if err := checkRaftAddr(s.Address); err != nil {
			return fmt.Errorf("survivor %s: %w", s.ID, err)
		}
		if ids[s.ID] {
			return fmt.Errorf("survivor %s is listed twice", s.ID)
		}
		if addrs[s.Address] {
			return fmt.Errorf("address %s is listed for two survivors", s.Address)
		}
		ids[s.ID], addrs[s.Address] = true, true
	}
	if !slices.ContainsFunc(survivors, func(s Survivor) bool { return !s.NonVoter }) {
		return errors.New("no voter among the survivors: a cluster needs at least one")
	}
	return nil
}

// checkRaftAddr requires host:port with a host and a port 1–65535.
func checkRaftAddr(addr string) error {
	if addr == "" {
		return errors.New("no address: give its inter-node address as HOST:PORT")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q is not HOST:PORT: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q needs a host and a port 1-65535", addr)
	}
	return nil
}

func isSurvivor(survivors []Survivor, id string) bool {
	return slices.ContainsFunc(survivors, func(s Survivor) bool { return s.ID == id })
}

func survivorIDs(survivors []Survivor) string {
	ids := make([]string, len(survivors))
	for i, s := range survivors {
		ids[i] = s.ID
	}
	return strings.Join(ids, ", ")
}

// survivorConfiguration makes every survivor a voter unless it is marked
// NonVoter.
func survivorConfiguration(survivors []Survivor) raft.Configuration {
	var conf raft.Configuration
	for _, s := range survivors {
		suffrage := raft.Voter
		if s.NonVoter {
			suffrage = raft.Nonvoter
		}
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: suffrage,
			ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Address)})
	}
	return conf
}

// membersOf lists a configuration's servers as members (ID, Address and
// Voter set).
func membersOf(conf raft.Configuration) []Member {
	out := make([]Member, len(conf.Servers))
	for i, srv := range conf.Servers {
		out[i] = Member{ID: string(srv.ID), Address: string(srv.Address), Voter: srv.Suffrage == raft.Voter}
	}
	return out
}

// memberList renders members for a log line: id=addr, non-voters marked.
func memberList(ms []Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.ID + "=" + m.Address
		if !m.Voter {
			parts[i] += "(non-voter)"
		}
	}
	return strings.Join(parts, ",")
}

// recoverWarnings compares the survivors with the configuration the node
// held: survivors it did not know or knew at another address, non-voters
// left out, and a list that still holds a majority of the old voters
// (such a cluster elects a leader by itself).
func recoverWarnings(old raft.Configuration, survivors []Survivor) []string {
	var warns []string
	known := map[string]raft.Server{}
	voters, kept := 0, 0
	for _, srv := range old.Servers {
		known[string(srv.ID)] = srv
		if srv.Suffrage == raft.Voter {
			voters++
		}
	}
	for _, s := range survivors {
		srv, ok := known[s.ID]
		switch {
		case !ok:
			warns = append(warns, fmt.Sprintf("%s is not in this node's configuration: check the ID (a node that never existed counts towards the quorum and never votes)", s.ID))
		case string(srv.Address) != s.Address:
			warns = append(warns, fmt.Sprintf("%s was at %s, now listed at %s", s.ID, srv.Address, s.Address))
		}
		if ok && srv.Suffrage == raft.Voter && !s.NonVoter {
			kept++
		}
	}
	for _, srv := range old.Servers {
		if srv.Suffrage != raft.Voter && !isSurvivor(survivors, string(srv.ID)) {
			warns = append(warns, fmt.Sprintf("non-voter %s is left out: list it as a non-voter and recover it too, or wipe its data folder and join it fresh (with its old state it believes it is a member and never rejoins)", srv.ID))
		}
	}
	if voters > 0 && kept > voters/2 {
		warns = append(warns, fmt.Sprintf("the list holds %d of the %d old voters, a majority: such a cluster elects a leader by itself; remove dead voters with `wlns cluster remove` instead", kept, voters))
	}
	return warns
}
