//go:build linux

package zone

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// reusePortSocket binds a UDP socket with SO_REUSEPORT set before the
// bind, as another process of the same user may (an older wlns, unbound).
func reusePortSocket(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	lc := net.ListenConfig{Control: controlShared}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		t.Fatalf("binding a SO_REUSEPORT socket on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc.(*net.UDPConn)
}

// The kernel lets a port-0 bind with SO_REUSEPORT land on a port another
// process's SO_REUSEPORT socket holds; two servers then split the queries,
// and a client asking one node got the other's answer (a NOERROR where
// NXDOMAIN was due, in the rbldnsd system test, once in ~10 runs).
func TestBind_PortIsNeverSharedWithAnotherProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	held := map[uint16]bool{}
	var one uint16
	for range 1000 {
		one = reusePortSocket(t, "127.0.0.1:0").LocalAddr().(*net.UDPAddr).AddrPort().Port()
		held[one] = true
	}
	shared := 0
	for range 200 {
		conns, ln, err := bind(ctx, netip.MustParseAddrPort("127.0.0.1:0"), 2)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue // the TCP port was taken; Start picks another
		}
		if err != nil {
			t.Fatal(err)
		}
		if held[conns[0].LocalAddr().(*net.UDPAddr).AddrPort().Port()] {
			shared++
		}
		closeAll(conns, ln)
	}
	if shared > 0 {
		t.Errorf("%d of 200 binds to port 0 got a port another process holds (of %d held)", shared, len(held))
	}

	conns, ln, err := bind(ctx, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), one), 2)
	if err == nil {
		closeAll(conns, ln)
		t.Fatalf("bind to port %d, held by another process's SO_REUSEPORT socket, succeeded; want address in use", one)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("bind to a held port: %v; want address in use", err)
	}
}

// The readers' sockets still share the server's port, and each gets
// datagrams.
func TestBind_ReadersShareThePort(t *testing.T) {
	conns, ln, err := bind(context.Background(), netip.MustParseAddrPort("127.0.0.1:0"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns, ln)
	to := conns[0].LocalAddr().(*net.UDPAddr)
	if p := conns[1].LocalAddr().(*net.UDPAddr).Port; p != to.Port {
		t.Fatalf("second reader on port %d, first on %d", p, to.Port)
	}
	for range 64 {
		c, err := net.DialUDP("udp", nil, to)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte{0})
		_ = c.Close()
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Errorf("reader %d got no datagram of 64: %v", i, err)
		}
	}
}
