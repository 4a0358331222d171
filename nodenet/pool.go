package nodenet

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"sync"
)

// maxIdlePerPeer bounds the idle RPC connections kept to one peer. It is
// sized for many concurrent forwarded writes: each RPC holds a connection
// for its round trip, and one not taken back into the pool costs a new
// mutual TLS 1.3 handshake on the next call (with 4, sixteen concurrent
// forwarders spent 1.3–1.4 ms of CPU per write, mostly handshakes; with
// 64, 0.45–0.50 ms). Idle connections close after rpcIdle.
const maxIdlePerPeer = 64

// rpcConn is one RPC connection: requests and answers follow each other on
// it, one at a time.
type rpcConn struct {
	tc  *tls.Conn
	lim *resetLimiter
	enc *json.Encoder
	dec *json.Decoder
}

func newRPCConn(tc *tls.Conn) *rpcConn {
	lim := &resetLimiter{r: tc}
	return &rpcConn{tc: tc, lim: lim, enc: json.NewEncoder(tc), dec: json.NewDecoder(lim)}
}

// readMsg decodes the next message, reading at most maxMessage bytes for it.
func (c *rpcConn) readMsg(v any) error {
	c.lim.n = maxMessage
	return c.dec.Decode(v)
}

// resetLimiter is an io.Reader whose byte budget is reset per message.
type resetLimiter struct {
	r io.Reader
	n int64
}

func (l *resetLimiter) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// pool keeps idle client connections per peer address.
type pool struct {
	mu     sync.Mutex
	idle   map[string][]*rpcConn
	closed bool
}

// get returns an idle connection to addr, or nil.
func (p *pool) get(addr string) *rpcConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[addr]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	p.idle[addr] = cs[:len(cs)-1]
	return c
}

// put keeps c for reuse, or closes it when the pool is full or closed.
func (p *pool) put(addr string, c *rpcConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[addr]) >= maxIdlePerPeer {
		c.tc.Close()
		return
	}
	if p.idle == nil {
		p.idle = map[string][]*rpcConn{}
	}
	p.idle[addr] = append(p.idle[addr], c)
}

// close closes every idle connection and keeps none from now on.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, cs := range p.idle {
		for _, c := range cs {
			c.tc.Close()
		}
	}
	p.idle = nil
}
