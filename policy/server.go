package policy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// writeTimeout bounds sending one reply.
const writeTimeout = 10 * time.Second

// Server answers Postfix policy requests on any number of listeners.
type Server struct {
	cfg  Config
	dec  *decider
	m    *metrics
	log  *slog.Logger
	sem  chan struct{}
	mu   sync.Mutex
	conn map[net.Conn]struct{}
	// closed is set once shutdown began: later connections close at once.
	closed bool
	wg     sync.WaitGroup
}

// New builds a server from cfg (defaults applied, then validated). Its
// metrics are registered with reg when reg is not nil.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("policy configuration: %w", err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("registering policy metrics: %w", err)
	}
	s := &Server{cfg: cfg, m: m, log: log, sem: make(chan struct{}, cfg.MaxConns), conn: make(map[net.Conn]struct{})}
	s.dec = &decider{cfg: &s.cfg, res: newResolver(&s.cfg, m), m: m, log: log}
	return s, nil
}

// Listen opens a listener: "unix:/path" for a unix socket (a stale socket
// file is replaced; the socket is made writable for Postfix's smtpd, so
// protect it through its directory), anything else is a TCP host:port.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("removing stale socket %s: %w", path, err)
			}
		}
		ln, err := lc.Listen(ctx, "unix", path)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", addr, err)
		}
		if err := os.Chmod(path, 0o666); err != nil {
			ln.Close()
			return nil, fmt.Errorf("making %s writable: %w", path, err)
		}
		return ln, nil
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve accepts connections on ln until ctx ends, then closes ln and every
// open connection (a request being decided is dropped; Postfix retries it)
// and waits for their handlers. It returns nil after a shutdown by ctx. All
// Serve calls of one Server must share one ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close(); s.closeAll() })
	defer stop()
	defer s.wg.Wait()
	// A listener that fails for good ends the service: close every
	// connection rather than wait for their idle timeouts.
	defer s.closeAll()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accepting on %s: %w", ln.Addr(), err)
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.m.refused.Inc()
			s.log.Warn("too many policy connections, closing the new one (raise --max-conns)", "max", s.cfg.MaxConns, "remote", c.RemoteAddr().String())
			c.Close()
			continue
		}
		s.track(c, true)
		s.wg.Add(1)
		go func() {
			defer func() { s.track(c, false); c.Close(); <-s.sem; s.wg.Done() }()
			s.handle(ctx, c)
		}()
	}
}

// handle serves one persistent connection: request, reply, repeat.
func (s *Server) handle(ctx context.Context, c net.Conn) {
	s.m.conns.Inc()
	defer s.m.conns.Dec()
	r := bufio.NewReaderSize(c, 4096)
	for ctx.Err() == nil {
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		req, err := ReadRequest(r, s.cfg.Limits)
		if err != nil {
			s.readFailed(c, err)
			return
		}
		if req.Request != "smtpd_access_policy" {
			s.m.malformed.Inc()
			s.log.Warn("policy request of unknown type, disconnecting", "request", req.Request, "remote", c.RemoteAddr().String())
			return
		}
		dec := s.dec.decide(ctx, req)
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := WriteAction(c, dec.Action); err != nil {
			s.log.Warn("policy reply not sent", "err", err, "remote", c.RemoteAddr().String())
			return
		}
	}
}

// readFailed logs why a connection ends; malformed requests get a warning
// (and no reply, as the protocol says).
func (s *Server) readFailed(c net.Conn, err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.Is(err, ErrMalformed):
		s.m.malformed.Inc()
		s.log.Warn("malformed policy request, disconnecting", "err", err, "remote", c.RemoteAddr().String())
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s.log.Debug("idle policy connection closed", "remote", c.RemoteAddr().String())
			return
		}
		s.log.Warn("reading policy request", "err", err, "remote", c.RemoteAddr().String())
	}
}

func (s *Server) track(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add && s.closed {
		c.Close()
	} else if add {
		s.conn[c] = struct{}{}
	} else {
		delete(s.conn, c)
	}
}

// closeAll closes every open connection, ending their handlers.
func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conn {
		c.Close()
	}
}
