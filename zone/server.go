package zone

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wlns/wlns/index"
)

// Socket and connection limits.
const (
	socketBuffer = 4 << 20 // SO_RCVBUF / SO_SNDBUF
	reqBufSize   = 2048    // larger UDP queries are dropped
	respBufSize  = 4096    // the largest UDP answer we send
	tcpIdle      = 10 * time.Second
	// tlsIdle is longer: a DNS-over-TLS client pays a handshake for
	// every new connection, so it is worth keeping (RFC 7858 §3.4).
	tlsIdle     = 30 * time.Second
	tcpWrite    = 10 * time.Second
	maxTCPConns = 256
)

// Server is the DNS server: UDP readers and a TCP listener on one address,
// answering from the index's current View.
type Server struct {
	cfg  Config
	ix   index.Reader
	resp *Responder
	log  *slog.Logger
	now  atomic.Int64 // coarse clock, Unix seconds

	mu      sync.Mutex
	readers []*udpReader
	ln      net.Listener
	tlsLn   net.Listener // DNS over TLS; nil when off
	conns   map[net.Conn]struct{}
	cancel  context.CancelFunc
	runDone <-chan struct{}
	udpAddr netip.AddrPort
	tcpAddr netip.AddrPort
	tlsAddr netip.AddrPort

	tcpStats stats
	tcp, tls connCounters
	// rrl limits UDP answers; nil when off.
	rrl      *limiter
	tcpSlots chan struct{}
	wg       sync.WaitGroup
}

// New builds a server for ix; it does not bind anything until Start.
func New(cfg Config, ix index.Reader) (*Server, error) {
	if ix == nil {
		return nil, errors.New("dns server: nil index")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dns server config: %w", err)
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, ix: ix, log: cfg.Logger, conns: map[net.Conn]struct{}{},
		tcpSlots: make(chan struct{}, maxTCPConns), rrl: newLimiter(cfg.RRL)}
	rc := cfg.responderConfig()
	rc.Now = &s.now
	r, err := NewResponder(rc)
	if err != nil {
		return nil, fmt.Errorf("dns server: %w", err)
	}
	s.resp = r
	r.follow(ix)
	s.now.Store(time.Now().Unix())
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(s)); err != nil {
			return nil, fmt.Errorf("registering dns metrics: %w", err)
		}
	}
	return s, nil
}

// Start binds the UDP sockets and the TCP listener and returns once they are
// listening. ctx bounds the binding only: the server then runs until
// Shutdown, so a start-up timeout does not stop it.
func (s *Server) Start(ctx context.Context) error {
	ap, err := s.cfg.listenAddr()
	if err != nil {
		return err
	}
	s.mu.Lock()
	started := s.cancel != nil
	s.mu.Unlock()
	if started {
		return errors.New("dns server already started")
	}
	var conns []*net.UDPConn
	var ln net.Listener
	for attempt := 0; ; attempt++ {
		conns, ln, err = bind(ctx, ap, s.cfg.Readers)
		// With port 0 the TCP port may be taken although the UDP one was
		// free: pick another.
		if err == nil || ap.Port() != 0 || attempt == 4 || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return err
	}
	tlsLn, err := s.listenTLS(ctx)
	if err != nil {
		closeAll(conns, ln)
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.cancel, s.ln, s.runDone = cancel, ln, runCtx.Done()
	s.udpAddr = conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
	s.tcpAddr = ln.Addr().(*net.TCPAddr).AddrPort()
	s.tlsLn = tlsLn
	if tlsLn != nil {
		s.tlsAddr = tlsLn.Addr().(*net.TCPAddr).AddrPort()
	}
	for _, c := range conns {
		r, err := newUDPReader(s, c)
		if err != nil {
			s.mu.Unlock()
			cancel()
			closeAll(conns, ln)
			if tlsLn != nil {
				_ = tlsLn.Close()
			}
			return fmt.Errorf("dns udp reader: %w", err)
		}
		s.readers = append(s.readers, r)
	}
	readers := s.readers
	s.mu.Unlock()

	s.wg.Add(2 + len(readers))
	go func() { defer s.wg.Done(); s.tick(runCtx) }()
	go func() { defer s.wg.Done(); s.acceptLoop(runCtx, ln, &s.tcp, tcpIdle) }()
	if tlsLn != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.acceptLoop(runCtx, tlsLn, &s.tls, tlsIdle) }()
	}
	for _, r := range readers {
		go func() { defer s.wg.Done(); r.run() }()
	}
	if len(s.cfg.NS) == 1 && s.cfg.NS[0] == DefaultNS && !s.udpAddr.Addr().IsLoopback() {
		s.log.Warn("dns: no NS names configured; the zone's SOA and NS say localhost., set the real name servers")
	}
	s.log.Info("dns server listening", "udp", s.udpAddr.String(), "tcp", s.tcpAddr.String(),
		"tls", s.TLSAddr().String(), "readers", len(readers), "apex", s.cfg.Apex)
	return nil
}

// bind opens n UDP sockets sharing ap with SO_REUSEPORT, and a TCP listener.
// The first UDP socket binds without SO_REUSEPORT and sets it afterwards:
// bound with it, port 0 may be given a port that another process of the
// same user holds with SO_REUSEPORT (the kernel lets such sockets share
// it), and an explicit port would be joined silently; either way the two
// servers would split the queries between them. Bound alone, the port is
// free or the bind fails.
func bind(ctx context.Context, ap netip.AddrPort, n int) ([]*net.UDPConn, net.Listener, error) {
	lc := net.ListenConfig{Control: controlSocket}
	if !reusePort {
		n = 1
	}
	var conns []*net.UDPConn
	addr := ap
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr.String())
		if err != nil {
			closeAll(conns, nil)
			return nil, nil, fmt.Errorf("dns listen udp %s: %w", addr, err)
		}
		c := pc.(*net.UDPConn)
		conns = append(conns, c)
		if i == 0 && n > 1 {
			if err := shareFirst(c); err != nil {
				closeAll(conns, nil)
				return nil, nil, fmt.Errorf("dns listen udp %s: %w", addr, err)
			}
			lc.Control = controlShared
		}
		addr = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	lc.Control = controlSocket
	ln, err := lc.Listen(ctx, "tcp", addr.String())
	if err != nil {
		closeAll(conns, nil)
		return nil, nil, fmt.Errorf("dns listen tcp %s: %w", addr, err)
	}
	return conns, ln, nil
}

// shareFirst lets the further readers' sockets join the first one's port.
func shareFirst(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	return sharePort(rc)
}

func closeAll(conns []*net.UDPConn, ln net.Listener) {
	for _, c := range conns {
		_ = c.Close()
	}
	if ln != nil {
		_ = ln.Close()
	}
}

// UDPAddr returns the bound UDP address (valid after Start).
func (s *Server) UDPAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpAddr
}

// TCPAddr returns the bound TCP address (valid after Start).
func (s *Server) TCPAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

// TLSAddr returns the bound DNS-over-TLS address (valid after Start), or
// the zero AddrPort when DNS over TLS is off.
func (s *Server) TLSAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsAddr
}

// listenTLS opens the DNS-over-TLS listener when one is configured: TLS
// over TCP, answering "dot" in ALPN (RFC 7858 §3.2 has no ALPN, RFC 9461
// names the token).
func (s *Server) listenTLS(ctx context.Context) (net.Listener, error) {
	if s.cfg.TLSListen == "" {
		return nil, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.TLSListen)
	if err != nil {
		return nil, fmt.Errorf("dns over tls: %w", err)
	}
	cfg := s.cfg.TLS.Clone()
	cfg.NextProtos = []string{"dot"}
	return tls.NewListener(ln, cfg), nil
}

// Shutdown stops the server: it closes the sockets and the open TCP
// connections and waits for the goroutines until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.log.Info("dns server stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dns server shutdown: %w", ctx.Err())
	}
}

// stop closes everything; it is safe to call more than once.
func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	for _, r := range s.readers {
		_ = r.conn.Close()
	}
	if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.tlsLn != nil {
		_ = s.tlsLn.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
}

// tick keeps the coarse clock used for seen marks.
func (s *Server) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.now.Store(now.Unix())
		}
	}
}

func (s *Server) allStats() []*stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*stats{&s.tcpStats}
	for _, r := range s.readers {
		out = append(out, &r.st)
	}
	return out
}
