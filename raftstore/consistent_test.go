package raftstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

func TestConsistentRead_FollowerSeesLeaderWriteAtOnce(t *testing.T) {
	ns := spoolCluster(t)
	leader, follower := ns[0].s, ns[2].s
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 20 {
		sender := fmt.Sprintf("u%d@example.org", i)
		if r, err := leader.Apply(ctx, env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: sender, IP: "192.0.2.1"})); err != nil || r.Err != nil {
			t.Fatal(err, r.Err)
		}
		if err := follower.ConsistentRead(ctx); err != nil {
			t.Fatalf("consistent read on the follower: %v", err)
		}
		v := follower.Index().Load()
		if id := entityIDOf(v, "192.0.2.1"); id == 0 || v.Pair(id, []byte(sender)) == nil {
			t.Fatalf("write %d: the follower does not see the leader's acknowledged write after a consistent read", i)
		}
		if err := leader.ConsistentRead(ctx); err != nil {
			t.Fatalf("consistent read on the leader: %v", err)
		}
	}
}

func TestConsistentRead_NoLeaderFailsAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lone := tlsNode(t, newCA(t), "lone", false, "s")
	start := time.Now()
	if err := lone.ConsistentRead(ctx); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("consistent read without a leader: %v, want ErrNoLeader", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("it took %v, want an immediate answer", d)
	}
}
