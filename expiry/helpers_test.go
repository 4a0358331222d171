package expiry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
)

// t0 is the clock of the tests' first commands.
var t0 = time.Unix(1_700_000_000, 0)

const day = 24 * time.Hour

// node is a one-node "cluster": a real state machine behind the Proposer
// interface, so that what the runner proposes really applies.
type node struct {
	tb     testing.TB
	mu     sync.Mutex
	fsm    *fsm.FSM
	idx    uint64
	leader bool
	// proposed are the envelopes applied, in order.
	proposed []*command.Envelope
}

func newNode(tb testing.TB) *node {
	return &node{tb: tb, fsm: fsm.NewFSM(nil, nil), leader: true}
}

func (n *node) IsLeader() bool { return n.leader }

func (n *node) Apply(_ context.Context, e *command.Envelope) (command.Result, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, err := e.Encode()
	if err != nil {
		return command.Result{}, err
	}
	n.idx++
	n.proposed = append(n.proposed, e)
	return n.fsm.ApplyEntries([]fsm.Entry{{Index: n.idx, Term: 1, Command: true, Data: b}})[0].(command.Result), nil
}

// must applies a command at time at and fails on rejection.
func (n *node) must(typ command.Type, at time.Time, body any) command.Result {
	n.tb.Helper()
	e, err := command.New(typ, at.Unix(), "", body)
	if err != nil {
		n.tb.Fatal(err)
	}
	r, err := n.Apply(context.Background(), e)
	if err != nil || r.Err != nil {
		n.tb.Fatalf("%s: %v %v", typ, err, r.Err)
	}
	return r
}

// clock is an injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// runner builds a Runner over n with default windows and the clock.
func runner(tb testing.TB, n *node, c *clock, mod func(*Config)) *Runner {
	// The scenarios count in days: a one-day granularity (the default is a
	// week) keeps their arithmetic readable.
	cfg := Config{Index: n.fsm.Index(), Store: n, Windows: DefaultWindows(), Granularity: day, Now: c.now}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
