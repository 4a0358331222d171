package raftstore

import (
	"context"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/nodenet"
)

// hangingHandler answers no forwarded command: a leader behind a
// partition, as its followers see it.
type hangingHandler struct{ rpcHandler }

var _ nodenet.Handler = hangingHandler{}

func (hangingHandler) Apply(ctx context.Context, _ *command.Envelope) (command.Result, uint64, error) {
	<-ctx.Done()
	return command.Result{}, 0, ctx.Err()
}

func TestForward_GivesUpOnALeaderThatIsNoLongerLeader(t *testing.T) {
	ns := spoolCluster(t)
	a, b := ns[0].s, ns[1].s
	a.cfg.Net.SetHandler(hangingHandler{rpcHandler{a}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type answer struct {
		res command.Result
		err error
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		r, err := b.Apply(ctx, env(t, command.PairPut, time.Now().Unix(), "fwd-hang", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"}))
		done <- answer{r, err}
	}()
	time.Sleep(300 * time.Millisecond) // the forward to a is in flight
	if err := a.raft.LeadershipTransfer().Error(); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil || got.res.Err != nil || !got.res.Created {
		t.Fatalf("forward after the leader changed: %+v %v", got.res, got.err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the forward took %v: it waited on the old leader instead of following the new one", d)
	}
}
