package whois

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Defaults of Config.
const (
	// DefaultMaxConns bounds concurrent connections.
	DefaultMaxConns = 64
	// DefaultMaxConnsPerClient bounds one client address's concurrent
	// connections.
	DefaultMaxConnsPerClient = 4
	// maxRefusing bounds the connections being told "busy" at once;
	// past it a connection over a bound is closed without a word.
	maxRefusing = 16
	// DefaultTimeout bounds a connection, from accept to the answer sent.
	DefaultTimeout = 10 * time.Second
	// namesEvery is how often the group name table is rebuilt at most.
	namesEvery = 10 * time.Second
)

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// Contact is ContactFull, ContactDomain or ContactNone (default).
	Contact string
	// MaxConns bounds concurrent connections; more are answered "busy"
	// and closed (default 64).
	MaxConns int
	// MaxConnsPerClient bounds the concurrent connections of one client
	// address, so that one host cannot take every slot; more are
	// answered "busy" and closed (default 4).
	MaxConnsPerClient int
	// Timeout bounds one connection (default 10s).
	Timeout time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives wlns_whois_queries_total; nil: none.
	Registerer prometheus.Registerer
}

// Reader is the index's read side.
type Reader interface{ Load() *index.View }

// Server answers WHOIS queries from the index.
type Server struct {
	cfg   Config
	idx   Reader
	slots chan struct{}
	// refusing bounds the goroutines telling connections "busy".
	refusing chan struct{}
	queries  *prometheus.CounterVec

	clientsMu sync.Mutex
	clients   map[netip.Addr]int // open connections per client address

	// groups finds a group by name in a table rebuilt at most every
	// namesEvery: a scan of every entity per query would let WHOIS
	// clients make a node walk its whole registry.
	groups index.GroupNames
}

// Query outcomes, the result label of wlns_whois_queries_total.
var outcomes = []string{"found", "not_found", "bad_query", "busy"}

// New builds a server reading idx.
func New(idx Reader, cfg Config) (*Server, error) {
	switch cfg.Contact {
	case "":
		cfg.Contact = ContactNone
	case ContactFull, ContactDomain, ContactNone:
	default:
		return nil, fmt.Errorf("whois contact setting %q: want full, domain or none", cfg.Contact)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerClient <= 0 {
		cfg.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, idx: idx, slots: make(chan struct{}, cfg.MaxConns), refusing: make(chan struct{}, maxRefusing),
		clients: map[netip.Addr]int{}, groups: index.GroupNames{Every: namesEvery},
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wlns_whois_queries_total",
			Help: "WHOIS queries answered, by result: found, not_found, bad_query (empty, too long, not an address or name, or not sent in time), busy (over the connection bound or the client's share of it).",
		}, []string{"result"})}
	for _, o := range outcomes {
		s.queries.WithLabelValues(o)
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(s.queries); err != nil {
			return nil, fmt.Errorf("registering WHOIS metrics: %w", err)
		}
	}
	return s, nil
}

// Serve answers connections on ln until ctx ends or ln is closed; it
// returns once every connection is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accepting WHOIS connections: %w", err)
		}
		s.serveConn(&wg, c)
	}
}

// serveConn answers c in a goroutine of its own when the bounds allow,
// else tells it to come back later.
func (s *Server) serveConn(wg *sync.WaitGroup, c net.Conn) {
	client := clientAddr(c)
	if !s.enter(client) {
		s.refuse(wg, c, "% busy: too many connections from your address, try again later\r\n")
		return
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.leave(client)
		s.refuse(wg, c, "% busy, try again later\r\n")
		return
	}
	wg.Go(func() {
		defer s.leave(client)
		defer func() { <-s.slots }()
		s.handle(c)
	})
}

// clientAddr is the address a connection comes from.
func clientAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// enter counts a connection of client, unless it has its share open.
func (s *Server) enter(client netip.Addr) bool {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if s.clients[client] >= s.cfg.MaxConnsPerClient {
		return false
	}
	s.clients[client]++
	return true
}

// leave uncounts a connection of client; the map holds only clients with
// connections open, at most MaxConns of them.
func (s *Server) leave(client netip.Addr) {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if s.clients[client]--; s.clients[client] <= 0 {
		delete(s.clients, client)
	}
}

// refuse tells a connection over a bound to come back later, from one of
// at most maxRefusing goroutines; past those it closes the connection
// without a word, so a flood of connections costs no goroutine each.
func (s *Server) refuse(wg *sync.WaitGroup, c net.Conn, msg string) {
	s.queries.WithLabelValues("busy").Inc()
	select {
	case s.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	wg.Go(func() {
		defer func() { <-s.refusing }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, msg)
	})
}

// handle reads one query line and answers it.
func (s *Server) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(s.cfg.Timeout))
	line, err := readLine(bufio.NewReaderSize(c, MaxQuery+2))
	switch {
	case err == nil:
		_, _ = io.WriteString(c, s.Answer(line))
	case errors.Is(err, ErrTooLong):
		s.queries.WithLabelValues("bad_query").Inc()
		_, _ = io.WriteString(c, "% "+ErrTooLong.Error()+"\r\n")
	default: // closed or not sent in time: nobody to answer
		s.queries.WithLabelValues("bad_query").Inc()
	}
}

// readLine reads a query up to LF (RFC 3912 ends it with CRLF; a bare LF
// is taken too), at most MaxQuery bytes.
func readLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", ErrTooLong
	case err != nil:
		return "", fmt.Errorf("reading the query: %w", err)
	}
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) > MaxQuery {
		return "", ErrTooLong
	}
	return string(b), nil
}

// Answer is the whole reply to one query line.
func (s *Server) Answer(line string) string {
	var b strings.Builder
	b.WriteString("% wlns relay registry\r\n% An IP address gives its relay entity (longest-prefix match); a name gives that relay group.\r\n\r\n")
	q, err := ParseQuery(line)
	if err != nil {
		s.queries.WithLabelValues("bad_query").Inc()
		b.WriteString("% " + err.Error() + "\r\n")
		return b.String()
	}
	v := s.idx.Load()
	var e *record.Entity
	if q.Addr.IsValid() {
		e = v.EntityOf(q.Addr)
	} else if g := s.groups.Lookup(v, q.Group); g.Found() {
		e = g.Entity()
	}
	if e == nil {
		s.queries.WithLabelValues("not_found").Inc()
		b.WriteString("% no relay entity for " + q.String() + "\r\n")
		return b.String()
	}
	s.queries.WithLabelValues("found").Inc()
	s.writeEntity(&b, v, e)
	return b.String()
}

// String is the query as the reply names it.
func (q Query) String() string {
	if q.Addr.IsValid() {
		return q.Addr.String()
	}
	return q.Group
}
