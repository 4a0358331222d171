package nodenet

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// maxIdlePerPeer bounds the idle RPC connections kept to one peer. It is
// sized for many concurrent forwarded writes: each RPC holds a connection
// for its round trip, and one not taken back into the pool costs a new
// mutual TLS 1.3 handshake on the next call (with 4, sixteen concurrent
// forwarders spent 1.3–1.4 ms of CPU per write, mostly handshakes; with
// 64, 0.45–0.50 ms). Idle connections close after rpcIdle.
const maxIdlePerPeer = 64

// clientIdle is how long the pool keeps an idle connection: less than the
// server's rpcIdle, so the client closes first. A connection the server
// had closed would otherwise stay open on this side (CLOSE_WAIT) until it
// was taken again, and after a burst of forwarded writes nothing takes the
// older ones: up to maxIdlePerPeer sockets per peer held for good.
const clientIdle = rpcIdle / 2

// rpcConn is one RPC connection: requests and answers follow each other on
// it, one at a time.
type rpcConn struct {
	tc        *tls.Conn
	lim       *resetLimiter
	enc       *json.Encoder
	dec       *json.Decoder
	idleSince time.Time // when it went back into the pool
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

// pool keeps idle client connections per peer address, each for at most
// clientIdle: a timer armed while any is idle closes the older ones.
type pool struct {
	mu     sync.Mutex
	idle   map[string][]*rpcConn
	closed bool
	reaper *time.Timer // armed while a connection is idle
	now    func() time.Time
}

func (p *pool) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
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
	c.idleSince = p.clock()
	p.idle[addr] = append(p.idle[addr], c)
	if p.reaper == nil {
		p.reaper = time.AfterFunc(clientIdle/2, p.reap)
	}
}

// reap closes the connections idle for clientIdle or longer (the oldest
// sit first in each list, since get takes from the end) and re-arms while
// any stay.
func (p *pool) reap() {
	for _, c := range p.expired() {
		c.tc.Close() // outside the lock: a TLS close may wait to send its alert
	}
}

// expired takes the connections idle for clientIdle or longer out of the
// pool and re-arms the timer while any stay.
func (p *pool) expired() []*rpcConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reaper = nil
	if p.closed {
		return nil
	}
	cutoff := p.clock().Add(-clientIdle)
	var out []*rpcConn
	left := 0
	for addr, cs := range p.idle {
		n := 0
		for n < len(cs) && !cs[n].idleSince.After(cutoff) {
			n++
		}
		out = append(out, cs[:n]...)
		p.idle[addr] = append(cs[:0:0], cs[n:]...)
		left += len(p.idle[addr])
	}
	if left > 0 {
		p.reaper = time.AfterFunc(clientIdle/2, p.reap)
	}
	return out
}

// close closes every idle connection and keeps none from now on.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.reaper != nil {
		p.reaper.Stop()
	}
	for _, cs := range p.idle {
		for _, c := range cs {
			c.tc.Close()
		}
	}
	p.idle = nil
}
