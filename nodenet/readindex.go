package nodenet

import (
	"context"
	"fmt"
)

// opReadIndex asks the leader for its commit index (leader-consistent
// reads on a follower).
const opReadIndex = "readindex"

// ReadIndexer is the optional Handler method behind Net.ReadIndex: the
// leader confirms it still leads and returns the index every write it
// acknowledged is at or below. A handler without it answers CodeInvalid.
type ReadIndexer interface {
	ReadIndex(ctx context.Context) (uint64, error)
}

// readIndex serves opReadIndex.
func readIndex(ctx context.Context, h Handler) (uint64, error) {
	ri, ok := h.(ReadIndexer)
	if !ok {
		return 0, &RemoteError{Code: CodeInvalid, Msg: "this node does not serve read-index requests"}
	}
	return ri.ReadIndex(ctx)
}

// ReadIndex asks the node at addr (the leader) for its read index.
func (n *Net) ReadIndex(ctx context.Context, addr string) (uint64, error) {
	resp, err := n.call(ctx, addr, &request{Op: opReadIndex})
	if err != nil {
		return 0, fmt.Errorf("asking %s for its read index: %w", addr, err)
	}
	return resp.Index, nil
}
