package nodenet

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wlns/wlns/clustertls"
	"github.com/wlns/wlns/command"
)

// Handler serves the internal RPC on the receiving node. The store
// implements it; errors it returns reach the caller as *RemoteError (with
// the code of a *RemoteError the handler returned, else CodeInternal).
type Handler interface {
	// Apply proposes a forwarded command on the leader and returns its
	// result and the log index it was committed at.
	Apply(ctx context.Context, e *command.Envelope) (command.Result, uint64, error)
	// Join adds or updates a node. peerID is the node ID in the caller's
	// verified certificate.
	Join(ctx context.Context, req JoinRequest, peerID string) (JoinResponse, error)
	// Remove removes a member.
	Remove(ctx context.Context, id string) error
	// Status describes this node.
	Status(ctx context.Context) (NodeStatus, error)
}

// JoinRequest asks the cluster to add a node.
type JoinRequest struct {
	// NodeID and Addr are the joining node's Raft ID and inter-node address.
	NodeID string `json:"node_id"`
	Addr   string `json:"addr"`
	// Token is the cluster's join secret.
	Token string `json:"token"`
	// Forwarded is set when a follower passes the request to the leader.
	Forwarded bool `json:"forwarded,omitempty"`
	// Replace says the operator replaces a member with this ID, alive or
	// not; without it a join under a live member's ID is refused.
	Replace bool `json:"replace,omitempty"`
	// Empty says the joining node holds no Raft state: a voter under its
	// ID would vote without the log it once acknowledged, so it rejoins as
	// a non-voter and is promoted once caught up.
	Empty bool `json:"empty,omitempty"`
}

// JoinResponse says how the node was added.
type JoinResponse struct {
	// Voter is true when the node is (now) a voter.
	Voter bool `json:"voter"`
	// Changed is false when the node was already a member at that address.
	Changed bool `json:"changed"`
	// LeaderID is the leader that handled the request.
	LeaderID string `json:"leader_id"`
}

// NodeStatus is one node's view of itself.
type NodeStatus struct {
	NodeID       string `json:"node_id"`
	State        string `json:"state"`
	LeaderID     string `json:"leader_id,omitempty"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	LastIndex    uint64 `json:"last_index"`
	// LastContact is the time since the last contact with the leader, in
	// seconds; 0 on the leader, -1 when never.
	LastContact float64 `json:"last_contact_seconds"`
	// Reads is the newest command envelope version the node's build
	// applies (command.Version); builds before version 7 leave it out (0).
	// A leader writes binary entries only once every member reads them.
	Reads int `json:"reads,omitempty"`
}

// Error codes of RemoteError.
const (
	CodeNotLeader  = "not_leader"
	CodeNoLeader   = "no_leader"
	CodeTimeout    = "timeout"
	CodeLost       = "leadership_lost"
	CodeInvalid    = "invalid"
	CodeForbidden  = "forbidden"
	CodeNotFound   = "not_found"
	CodeClosed     = "closed"
	CodeInternal   = "internal"
	CodeNotServing = "not_serving"
)

// RemoteError is an error the peer's handler returned.
type RemoteError struct {
	Code string `json:"code"`
	Msg  string `json:"message"`
}

func (e *RemoteError) Error() string { return e.Msg }

// request is one RPC call; exactly one of the bodies is set.
type request struct {
	Op       string            `json:"op"`
	Timeout  time.Duration     `json:"timeout"`
	Envelope *command.Envelope `json:"envelope,omitempty"`
	Join     *JoinRequest      `json:"join,omitempty"`
	ID       string            `json:"id,omitempty"`
	Stats    json.RawMessage   `json:"stats,omitempty"`
}

// response is the answer to a request.
type response struct {
	Err    *RemoteError    `json:"err,omitempty"`
	Result *command.Result `json:"result,omitempty"`
	Index  uint64          `json:"index,omitempty"`
	Join   *JoinResponse   `json:"join,omitempty"`
	Status *NodeStatus     `json:"status,omitempty"`
	Stats  json.RawMessage `json:"stats,omitempty"`
}

// maxMessage bounds one RPC message (a forwarded command is at most the
// store's entry limit, 8 MiB, plus JSON escaping and whatever the decoder
// has read ahead).
const maxMessage = 32 << 20

// defaultRPCTimeout bounds a call whose context has no deadline.
const defaultRPCTimeout = 30 * time.Second

// Operation names.
const (
	opApply  = "apply"
	opJoin   = "join"
	opRemove = "remove"
	opStatus = "status"
)

// rpcIdle is how long a server keeps an RPC connection without a request;
// the client side retries once on a fresh connection when a pooled one was
// closed meanwhile.
const rpcIdle = 2 * time.Minute

// serveRPC answers requests on c, one after the other, until the peer
// closes it, it idles for rpcIdle, or the port closes.
func (n *Net) serveRPC(tc *tls.Conn) {
	if !n.track(tc) {
		tc.Close()
		return
	}
	defer n.untrack(tc)
	defer tc.Close()
	c := newRPCConn(tc)
	peer := clustertls.PeerNodeID(tc.ConnectionState())
	for {
		_ = tc.SetDeadline(time.Now().Add(rpcIdle))
		var req request
		if err := c.readMsg(&req); err != nil {
			if !errors.Is(err, io.EOF) && !isClosed(err) {
				n.log.Debug("reading an inter-node request", "peer", peer, "err", err)
			}
			return
		}
		timeout := req.Timeout
		if timeout <= 0 || timeout > defaultRPCTimeout {
			timeout = defaultRPCTimeout
		}
		_ = tc.SetDeadline(time.Now().Add(timeout + time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		resp := n.handle(ctx, &req, peer)
		cancel()
		if err := c.enc.Encode(resp); err != nil {
			n.log.Warn("answering an inter-node request", "op", req.Op, "peer", peer, "err", err)
			return
		}
	}
}

// isClosed reports a read on a closed or timed-out connection.
func isClosed(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && ne.Timeout()
}

// handle dispatches one request.
func (n *Net) handle(ctx context.Context, req *request, peer string) *response {
	h := n.getHandler()
	if h == nil {
		return &response{Err: &RemoteError{Code: CodeNotServing, Msg: "node is starting"}}
	}
	var resp response
	var err error
	switch {
	case req.Op == opApply && req.Envelope != nil:
		var res command.Result
		res, resp.Index, err = h.Apply(ctx, req.Envelope)
		resp.Result = &res
	case req.Op == opJoin && req.Join != nil:
		var jr JoinResponse
		jr, err = h.Join(ctx, *req.Join, peer)
		resp.Join = &jr
	case req.Op == opRemove:
		err = h.Remove(ctx, req.ID)
	case req.Op == opReadIndex:
		resp.Index, err = readIndex(ctx, h)
	case req.Op == opStats:
		resp.Stats, err = n.handleStats(ctx, req.Stats)
	case req.Op == opStatus:
		var st NodeStatus
		st, err = h.Status(ctx)
		resp.Status = &st
	default:
		err = &RemoteError{Code: CodeInvalid, Msg: fmt.Sprintf("unknown inter-node operation %q", req.Op)}
	}
	if err != nil {
		var re *RemoteError
		if !errors.As(err, &re) {
			re = &RemoteError{Code: CodeInternal, Msg: err.Error()}
		}
		return &response{Err: re}
	}
	return &resp
}

// call sends req to addr and decodes the answer, on a pooled connection
// when there is one. A pooled connection that fails (the peer closed it
// while idle, or restarted) is retried once on a fresh one: every request
// is safe to repeat (a forwarded command carries its ReqID).
func (n *Net) call(ctx context.Context, addr string, req *request) (*response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultRPCTimeout)
		defer cancel()
	}
	pooled := false
	if c := n.pool.get(addr); c != nil {
		resp, err := n.roundTrip(ctx, addr, c, req)
		var re *RemoteError
		if err == nil || errors.As(err, &re) || ctx.Err() != nil {
			return resp, err
		}
		pooled = true
	}
	tc, err := n.dial(ctx, addr, kindRPC)
	if err != nil {
		var ns notSentError
		if pooled && errors.As(err, &ns) {
			// The pooled attempt may have reached the peer.
			return nil, fmt.Errorf("%s with %s after a pooled connection failed: %w", req.Op, addr, ns.error)
		}
		return nil, err
	}
	return n.roundTrip(ctx, addr, newRPCConn(tc), req)
}

// roundTrip sends one request on c and reads the answer; c goes back to the
// pool after a complete exchange and is closed otherwise.
func (n *Net) roundTrip(ctx context.Context, addr string, c *rpcConn, req *request) (*response, error) {
	dl, _ := ctx.Deadline()
	req.Timeout = time.Until(dl)
	_ = c.tc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = c.tc.SetDeadline(time.Now()) })
	resp, err := exchange(c, req)
	if !stop() || err != nil {
		c.tc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for %s from %s: %w", req.Op, addr, ctx.Err())
		}
		if err == nil {
			err = errors.New("deadline passed")
		}
		return nil, fmt.Errorf("%s with %s: %w", req.Op, addr, err)
	}
	_ = c.tc.SetDeadline(time.Time{})
	n.pool.put(addr, c)
	if resp.Err != nil {
		return nil, resp.Err
	}
	return resp, nil
}

// exchange writes req and reads the response.
func exchange(c *rpcConn, req *request) (*response, error) {
	if err := c.enc.Encode(req); err != nil {
		return nil, fmt.Errorf("sending: %w", err)
	}
	var resp response
	if err := c.readMsg(&resp); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return &resp, nil
}

// Apply forwards a command to the node at addr (the leader).
func (n *Net) Apply(ctx context.Context, addr string, e *command.Envelope) (command.Result, uint64, error) {
	resp, err := n.call(ctx, addr, &request{Op: opApply, Envelope: e})
	if err != nil {
		return command.Result{}, 0, err
	}
	if resp.Result == nil {
		return command.Result{}, 0, fmt.Errorf("forwarding %s to %s: empty answer", e.Type, addr)
	}
	return *resp.Result, resp.Index, nil
}

// Join asks the node at addr to add a node.
func (n *Net) Join(ctx context.Context, addr string, req JoinRequest) (JoinResponse, error) {
	resp, err := n.call(ctx, addr, &request{Op: opJoin, Join: &req})
	if err != nil {
		return JoinResponse{}, err
	}
	if resp.Join == nil {
		return JoinResponse{}, fmt.Errorf("joining through %s: empty answer", addr)
	}
	return *resp.Join, nil
}

// Remove asks the node at addr (the leader) to remove member id.
func (n *Net) Remove(ctx context.Context, addr, id string) error {
	_, err := n.call(ctx, addr, &request{Op: opRemove, ID: id})
	return err
}

// Status asks the node at addr how it is.
func (n *Net) Status(ctx context.Context, addr string) (NodeStatus, error) {
	resp, err := n.call(ctx, addr, &request{Op: opStatus})
	if err != nil {
		return NodeStatus{}, err
	}
	if resp.Status == nil {
		return NodeStatus{}, fmt.Errorf("status of %s: empty answer", addr)
	}
	return *resp.Status, nil
}
