//go:build !linux

package zone

import (
	"errors"
	"net"
	"time"
)

// udpReader serves one socket a datagram at a time (recvmmsg is Linux only).
type udpReader struct {
	s    *Server
	conn *net.UDPConn
	st   stats
}

func newUDPReader(s *Server, c *net.UDPConn) (*udpReader, error) {
	return &udpReader{s: s, conn: c}, nil
}

func (r *udpReader) run() {
	req := make([]byte, reqBufSize)
	out := make([]byte, 0, respBufSize)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(req)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				r.s.log.Error("dns udp read", "err", err)
			}
			return
		}
		start := time.Now()
		resp, o := r.s.resp.respond(out[:0], req[:n], r.s.ix.Load(), respBufSize, from.Addr())
		r.st.count(o)
		if o.result != resDropped && len(resp) > 0 {
			if resp, send := r.s.limit(resp, o, from.Addr()); send {
				_, _ = r.conn.WriteToUDPAddrPort(resp, from)
			}
		}
		r.st.observe(time.Since(start), 1)
	}
}
