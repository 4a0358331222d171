package verify

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// errConnBudget ends a connection past its lifetime or byte budget.
var errConnBudget = errors.New("inbound SMTP connection used up its time or byte budget")

// inboundListener bounds concurrent connections (the excess is answered
// 421 and closed) and wraps each accepted one in a budget.
type inboundListener struct {
	net.Listener
	sem      chan struct{}
	lifetime time.Duration
	budget   int64
	m        *inboundMetrics
}

func newInboundListener(ln net.Listener, maxConns int, lifetime time.Duration, maxMessage int64, m *inboundMetrics) *inboundListener {
	// A session may carry a few messages and their commands, and read one
	// oversize message to its end to refuse it with 552; no honest reply
	// needs more.
	return &inboundListener{Listener: ln, sem: make(chan struct{}, maxConns), lifetime: lifetime,
		budget: 4*maxMessage + InboundMaxOversize + 64<<10, m: m}
}

// Accept returns the next connection within the limit.
func (l *inboundListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			l.m.conns.Inc()
			return &budgetConn{Conn: c, deadline: time.Now().Add(l.lifetime), left: l.budget, release: func() {
				l.m.conns.Dec()
				<-l.sem
			}}, nil
		default:
			l.m.refused.Inc()
			go refuseBusy(c)
		}
	}
}

// refuseBusy answers 421 and closes, without waiting on the client.
func refuseBusy(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.WriteString(c, "421 4.7.0 too many connections, try again later\r\n")
	_ = c.Close()
}

// budgetConn is a connection with an absolute deadline and a cap on the
// bytes it may read; Close frees its slot once.
type budgetConn struct {
	net.Conn
	deadline time.Time
	left     int64
	once     sync.Once
	release  func()
}

// Read fails once the connection is past its deadline or budget.
func (c *budgetConn) Read(p []byte) (int, error) {
	if c.left <= 0 || time.Now().After(c.deadline) {
		return 0, errConnBudget
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// SetReadDeadline keeps the absolute deadline when the server asks for a
// later one.
func (c *budgetConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() || t.After(c.deadline) {
		t = c.deadline
	}
	return c.Conn.SetReadDeadline(t)
}

// Close closes the connection and frees its slot.
func (c *budgetConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
