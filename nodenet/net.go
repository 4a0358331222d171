package nodenet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/clustertls"
)

// First bytes of a connection, after the TLS handshake.
const (
	kindRaft byte = 'R'
	kindRPC  byte = 'C'
)

// handshakeTimeout bounds the TLS handshake and the kind byte of an
// incoming connection.
const handshakeTimeout = 10 * time.Second

// maxHandshakes bounds the incoming connections still in their TLS
// handshake; more are closed at once, so unauthenticated clients cannot
// pile up goroutines.
const maxHandshakes = 128

// Net is the inter-node listener and dialer of one node.
type Net struct {
	id     *clustertls.Identity
	ln     net.Listener
	adv    net.Addr
	log    *slog.Logger
	raftCh chan net.Conn
	// handshakes holds a token per incoming connection in its handshake.
	handshakes chan struct{}

	mu      sync.Mutex
	handler Handler
	stats   StatsFunc
	conns   map[*tls.Conn]struct{} // RPC connections being served
	pool    pool
	closed  chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

// Listen opens the inter-node port on bind. advertise, if set, is the
// address peers dial (it must resolve); otherwise the bound address.
func Listen(bind, advertise string, id *clustertls.Identity, log *slog.Logger) (*Net, error) {
	if id == nil {
		return nil, errors.New("nodenet: the inter-node port needs TLS material")
	}
	if b, err := net.ResolveTCPAddr("tcp", bind); err == nil && advertise == "" && (b.IP == nil || b.IP.IsUnspecified()) {
		return nil, fmt.Errorf("inter-node bind address %s is a wildcard: set an advertise address peers can dial", bind)
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listening on the inter-node port %s: %w", bind, err)
	}
	n := &Net{id: id, ln: ln, adv: ln.Addr(), log: log.With("component", "nodenet"),
		raftCh: make(chan net.Conn, 16), handshakes: make(chan struct{}, maxHandshakes), closed: make(chan struct{})}
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("resolving advertise address %q: %w", advertise, err)
		}
		n.adv = a
	}
	n.wg.Add(1)
	go n.acceptLoop()
	return n, nil
}

// SetHandler installs the RPC handler; until then RPCs are refused.
func (n *Net) SetHandler(h Handler) {
	n.mu.Lock()
	n.handler = h
	n.mu.Unlock()
}

func (n *Net) getHandler() Handler {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.handler
}

// Addr returns the advertised address.
func (n *Net) Addr() net.Addr { return n.adv }

// Close stops accepting; connections already handed to Raft are Raft's.
func (n *Net) Close() error {
	var err error
	n.once.Do(func() {
		close(n.closed)
		err = n.ln.Close()
		n.wg.Wait()
		n.pool.close()
		n.mu.Lock()
		for c := range n.conns {
			c.Close()
		}
		n.conns = nil
		n.mu.Unlock()
	})
	return err
}

// track registers a served RPC connection so Close can end it; false when
// the port is closed already.
func (n *Net) track(c *tls.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.closed:
		return false
	default:
	}
	if n.conns == nil {
		n.conns = map[*tls.Conn]struct{}{}
	}
	n.conns[c] = struct{}{}
	return true
}

func (n *Net) untrack(c *tls.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
}

func (n *Net) acceptLoop() {
	defer n.wg.Done()
	for {
		c, err := n.ln.Accept()
		if err != nil {
			select {
			case <-n.closed:
				return
			default:
			}
			n.log.Warn("accepting an inter-node connection", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		select {
		case n.handshakes <- struct{}{}:
			go n.route(c)
		default:
			n.log.Warn("too many inter-node handshakes in progress; dropping a connection", "remote", c.RemoteAddr())
			c.Close()
		}
	}
}

// route completes the handshake, reads the kind byte and hands the
// connection to Raft or serves one RPC on it.
func (n *Net) route(raw net.Conn) {
	tc, kind, err := n.handshake(raw)
	<-n.handshakes
	if err != nil {
		n.log.Warn("inter-node connection refused", "remote", raw.RemoteAddr(), "err", err)
		raw.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	switch kind {
	case kindRaft:
		select {
		case n.raftCh <- tc:
		case <-n.closed:
			tc.Close()
		}
	case kindRPC:
		n.serveRPC(tc)
	default:
		n.log.Warn("unknown inter-node connection kind", "remote", raw.RemoteAddr(), "kind", kind)
		tc.Close()
	}
}

// handshake runs the server side of the TLS handshake and reads the kind
// byte, bounded by handshakeTimeout.
func (n *Net) handshake(raw net.Conn) (*tls.Conn, byte, error) {
	tc := tls.Server(raw, n.id.ServerConfig())
	_ = tc.SetDeadline(time.Now().Add(handshakeTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, 0, fmt.Errorf("TLS handshake: %w", err)
	}
	var kind [1]byte
	if _, err := io.ReadFull(tc, kind[:]); err != nil {
		return nil, 0, fmt.Errorf("reading the connection kind: %w", err)
	}
	return tc, kind[0], nil
}

// dial opens a TLS connection of the given kind to addr.
func (n *Net) dial(ctx context.Context, addr string, kind byte) (*tls.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("inter-node address %q: %w", addr, err)
	}
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: n.id.ClientConfig(host)}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, notSentError{fmt.Errorf("dialing node %s: %w", addr, err)}
	}
	tc := c.(*tls.Conn)
	if _, err := tc.Write([]byte{kind}); err != nil {
		tc.Close()
		return nil, fmt.Errorf("dialing node %s: %w", addr, err)
	}
	return tc, nil
}

// StreamLayer returns the raft.StreamLayer that carries Raft over this port.
func (n *Net) StreamLayer() raft.StreamLayer { return streamLayer{n} }

// streamLayer adapts Net to raft.StreamLayer.
type streamLayer struct{ n *Net }

// Accept returns the next Raft connection.
func (s streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.n.raftCh:
		return c, nil
	case <-s.n.closed:
		return nil, net.ErrClosed
	}
}

// Close closes the whole port (Raft's transport owns it).
func (s streamLayer) Close() error { return s.n.Close() }

// Addr is the advertised address.
func (s streamLayer) Addr() net.Addr { return s.n.adv }

// Dial opens a Raft connection to a peer.
func (s streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.n.dial(ctx, string(addr), kindRaft)
}
