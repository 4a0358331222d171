package raftstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestJoin_LiveMembersIDIsNotTakenOver: a second, empty node with a live
// voter's ID is refused; with Replace it comes in at its own address, as a
// non-voter (it has no log to vote with), and the member it replaced is
// out of the configuration.
func TestJoin_LiveMembersIDIsNotTakenOver(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The leader promotes joined nodes only after a stable minute, so a
	// voter in this test is one the join itself made.
	a := tlsNodeWith(t, t.TempDir(), ca, "a", true, "s3cret", func(c *Config) { c.PromoteAfter = time.Minute })
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b := tlsNode(t, ca, "b", false, "s3cret")
	if err := b.JoinCluster(ctx, a.Addr(), "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.raft.AddVoter("b", raft.ServerAddress(b.Addr()), 0, 10*time.Second).Error(); err != nil {
		t.Fatal(err) // b made a voter by hand, as the promotion would
	}
	b2 := tlsNode(t, ca, "b", false, "s3cret")
	err := b2.JoinCluster(ctx, a.Addr(), "s3cret")
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "is a live member at "+b.Addr()) {
		t.Fatalf("joining under live b's ID: %v, want ErrForbidden naming b's address", err)
	}
	if m := memberOf(t, a, "b"); m.Address != b.Addr() || !m.Voter {
		t.Fatalf("after the refusal b is %+v, want the voter at %s", m, b.Addr())
	}
	b2.cfg.Replace = true
	if err := b2.JoinCluster(ctx, a.Addr(), "s3cret"); err != nil {
		t.Fatalf("joining with Replace: %v", err)
	}
	if m := memberOf(t, a, "b"); m.Address != b2.Addr() || m.Voter {
		t.Fatalf("after the replacing join b is %+v, want a non-voter at %s", m, b2.Addr())
	}
}

// memberOf is member id as s lists it.
func memberOf(t *testing.T, s *Store, id string) Member {
	t.Helper()
	ms, err := s.Members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no member %s in %+v", id, ms)
	return Member{}
}
