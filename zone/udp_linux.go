//go:build linux

package zone

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSize is how many datagrams one recvmmsg/sendmmsg moves.
const batchSize = 32

// mmsghdr is struct mmsghdr from <sys/socket.h>.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// batch is a reader's reusable I/O state: request and response buffers and
// the kernel headers pointing into them. It is allocated once per reader.
type batch struct {
	in     [batchSize]mmsghdr
	inIov  [batchSize]unix.Iovec
	names  [batchSize]unix.RawSockaddrInet6
	bufs   [batchSize][reqBufSize]byte
	out    [batchSize]mmsghdr
	outIov [batchSize]unix.Iovec
	resp   [batchSize][]byte
	// Packet info, used on wildcard sockets only.
	ctrlIn, ctrlOut [batchSize]ctrlBuf
	pktinfo         bool

	n, nOut, sent int
	err           syscall.Errno
}

// udpReader serves one SO_REUSEPORT socket with recvmmsg/sendmmsg.
type udpReader struct {
	s    *Server
	conn *net.UDPConn
	rc   syscall.RawConn
	st   stats
	b    *batch
	// recvFn and sendFn are made once so that the loop allocates nothing.
	recvFn, sendFn func(fd uintptr) bool
}

func newUDPReader(s *Server, c *net.UDPConn) (*udpReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &udpReader{s: s, conn: c, rc: rc, b: new(batch)}
	b := r.b
	b.pktinfo = c.LocalAddr().(*net.UDPAddr).IP.IsUnspecified()
	for i := range b.in {
		b.inIov[i].Base = &b.bufs[i][0]
		b.in[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.in[i].hdr.Iov = &b.inIov[i]
		b.in[i].hdr.SetIovlen(1)
		b.out[i].hdr.Iov = &b.outIov[i]
		b.out[i].hdr.SetIovlen(1)
		b.resp[i] = make([]byte, 0, respBufSize)
	}
	r.recvFn = r.recv
	r.sendFn = r.send
	return r, nil
}

// recv and send use RawSyscall6: with MSG_DONTWAIT they never block, and a
// plain Syscall6 enters the scheduler on every call, which wakes sysmon each
// time the server has gone idle. Measured with dnsperf at a steady 40k
// queries/s on one pinned CPU: 14–15 µs of server CPU per query with
// Syscall6, 8–10 with RawSyscall6 (rbldnsd: 8–9).
func (r *udpReader) recv(fd uintptr) bool {
	b := r.b
	for i := range b.in {
		b.in[i].hdr.Namelen = unix.SizeofSockaddrInet6
		b.in[i].hdr.Flags = 0
		b.inIov[i].SetLen(reqBufSize)
		if b.pktinfo {
			b.in[i].hdr.Control = &b.ctrlIn[i].bytes()[0]
			b.in[i].hdr.SetControllen(ctrlSize)
		}
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), batchSize, unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN {
		return false
	}
	b.n, b.err = int(n), e
	return true
}

func (r *udpReader) send(fd uintptr) bool {
	b := r.b
	for b.sent < b.nOut {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[b.sent])),
			uintptr(b.nOut-b.sent), unix.MSG_DONTWAIT, 0, 0)
		switch {
		case e == unix.EAGAIN:
			return false
		case e == unix.EINTR:
		case e != 0:
			b.err = e
			b.sent++ // skip the datagram the kernel refused
		default:
			b.sent += int(n)
		}
	}
	return true
}

// run reads, answers and writes batches until the socket is closed.
func (r *udpReader) run() {
	b := r.b
	for {
		if err := r.rc.Read(r.recvFn); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				r.s.log.Error("dns udp read", "err", err)
			}
			return
		}
		if b.err != 0 {
			if b.err != unix.EINTR {
				r.s.log.Warn("dns udp recvmmsg", "err", b.err)
			}
			continue
		}
		start := time.Now()
		r.answer()
		if b.nOut > 0 {
			b.sent, b.err = 0, 0
			if err := r.rc.Write(r.sendFn); err != nil {
				if !errors.Is(err, net.ErrClosed) {
					r.s.log.Error("dns udp write", "err", err)
				}
				return
			}
			if b.err != 0 {
				r.s.log.Debug("dns udp sendmmsg", "err", b.err)
			}
		}
		r.st.observe(time.Since(start), b.n)
	}
}

// sourceAddr is the client address in a received datagram's name.
func sourceAddr(sa *unix.RawSockaddrInet6) netip.Addr {
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(sa4.Addr)
	}
	return netip.AddrFrom16(sa.Addr)
}

// answer runs the Responder over the received batch, applies the rate
// limit and fills the send headers.
func (r *udpReader) answer() {
	b := r.b
	v := r.s.ix.Load()
	b.nOut = 0
	for i := 0; i < b.n; i++ {
		if b.in[i].hdr.Flags&unix.MSG_TRUNC != 0 {
			r.st.count(outcome{result: resDropped})
			continue
		}
		src := sourceAddr(&b.names[i])
		resp, o := r.s.resp.respond(b.resp[b.nOut][:0], b.bufs[i][:b.in[i].len], v, respBufSize, src)
		r.st.count(o)
		if o.result == resDropped || len(resp) == 0 {
			continue
		}
		var send bool
		if resp, send = r.s.limit(resp, o, src); !send {
			continue
		}
		b.resp[b.nOut] = resp[:0]
		k := b.nOut
		b.out[k].hdr.Name = b.in[i].hdr.Name
		b.out[k].hdr.Namelen = b.in[i].hdr.Namelen
		b.outIov[k].Base = &resp[0]
		b.outIov[k].SetLen(len(resp))
		if b.pktinfo {
			n := replyPktinfo(b.ctrlIn[i].bytes()[:b.in[i].hdr.Controllen], &b.ctrlOut[k])
			b.out[k].hdr.Control = nil
			if n > 0 {
				b.out[k].hdr.Control = &b.ctrlOut[k].bytes()[0]
			}
			b.out[k].hdr.SetControllen(n)
		}
		b.nOut++
	}
}
