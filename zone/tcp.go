package zone

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// connCounters count one listener's connections for the metrics.
type connCounters struct{ open, accepted, rejected atomic.Int64 }

// acceptLoop accepts stream connections (TCP, or TLS over TCP) until the
// listener is closed and serves each until it idles for idle. Over
// maxTCPConns open connections of both kinds, new ones are closed at once.
func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, cc *connCounters, idle time.Duration) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("dns tcp accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		select {
		case s.tcpSlots <- struct{}{}:
		default:
			cc.rejected.Add(1)
			_ = c.Close()
			continue
		}
		if !s.track(c, true) {
			<-s.tcpSlots
			_ = c.Close()
			return
		}
		cc.accepted.Add(1)
		cc.open.Add(1)
		s.wg.Add(1)
		go func() {
			defer func() {
				s.track(c, false)
				_ = c.Close()
				cc.open.Add(-1)
				<-s.tcpSlots
				s.wg.Done()
			}()
			s.serveTCP(ctx, c, idle)
		}()
	}
}

// track adds or removes an open connection; it refuses to add one after
// the server was stopped.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	select {
	case <-s.stopped():
		return false
	default:
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) stopped() <-chan struct{} {
	if s.cancel == nil {
		return nil
	}
	return s.runDone
}

// serveTCP answers length-prefixed queries on one connection, in order, as
// many as the client pipelines (RFC 7766), until it goes idle for idle (a
// TLS connection's handshake happens within the first read, under the same
// deadline). Answers are flushed whenever no further query is already
// buffered.
func (s *Server) serveTCP(ctx context.Context, c net.Conn, idle time.Duration) {
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 8192)
	req := make([]byte, 1024) // grows to the largest query seen
	out := make([]byte, 0, 4096)
	var lenBuf [2]byte
	var src netip.Addr
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		src = ap.Addr()
	}
	for ctx.Err() == nil {
		_ = c.SetReadDeadline(time.Now().Add(idle))
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n > len(req) {
			req = make([]byte, n)
		}
		if _, err := io.ReadFull(br, req[:n]); err != nil {
			return
		}
		start := time.Now()
		resp, o := s.resp.respond(out[:0], req[:n], s.ix.Load(), 0, src)
		s.tcpStats.count(o)
		if o.result == resDropped || len(resp) == 0 {
			return // not DNS: hang up
		}
		out = resp[:0]
		_ = c.SetWriteDeadline(time.Now().Add(tcpWrite))
		binary.BigEndian.PutUint16(lenBuf[:], uint16(len(resp)))
		if _, err := bw.Write(lenBuf[:]); err != nil {
			return
		}
		if _, err := bw.Write(resp); err != nil {
			return
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
		s.tcpStats.observe(time.Since(start), 1)
	}
}
