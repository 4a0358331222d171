package nodenet

import (
	"context"
	"encoding/json"
	"fmt"
)

// opStats asks a node for its own statistics (the web console's charts).
const opStats = "stats"

// StatsFunc answers a peer's statistics request; the node's web console
// installs it. The request and answer are the console's JSON: this
// package carries them without reading them.
type StatsFunc func(ctx context.Context, req json.RawMessage) (json.RawMessage, error)

// SetStats installs the statistics handler; until then (and on a node
// without a console) a stats request is answered CodeNotFound.
func (n *Net) SetStats(f StatsFunc) {
	n.mu.Lock()
	n.stats = f
	n.mu.Unlock()
}

// handleStats answers a stats request.
func (n *Net) handleStats(ctx context.Context, req json.RawMessage) (json.RawMessage, error) {
	n.mu.Lock()
	f := n.stats
	n.mu.Unlock()
	if f == nil {
		return nil, &RemoteError{Code: CodeNotFound, Msg: "this node serves no statistics"}
	}
	return f(ctx, req)
}

// Stats asks the node at addr for its statistics.
func (n *Net) Stats(ctx context.Context, addr string, req json.RawMessage) (json.RawMessage, error) {
	resp, err := n.call(ctx, addr, &request{Op: opStats, Stats: req})
	if err != nil {
		return nil, err
	}
	if resp.Stats == nil {
		return nil, fmt.Errorf("statistics of %s: empty answer", addr)
	}
	return resp.Stats, nil
}
