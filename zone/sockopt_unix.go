//go:build unix

package zone

import (
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort: every reader gets its own socket on the port.
const reusePort = true

// controlSocket sets large socket buffers, so bursts are not dropped, and
// packet info on a wildcard address. It does not set SO_REUSEPORT: the
// first socket binds alone (bind), so that the kernel never hands it a
// port another process's SO_REUSEPORT socket holds.
func controlSocket(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if network == "udp" || network == "udp4" || network == "udp6" {
			// Best effort: the kernel caps these at rmem_max/wmem_max.
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, socketBuffer)
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, socketBuffer)
			if ap, err := netip.ParseAddrPort(address); err == nil && ap.Addr().IsUnspecified() {
				serr = setPktinfo(int(fd), network)
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// controlShared is controlSocket with SO_REUSEPORT, for the further
// readers' sockets that join the first one's port.
func controlShared(network, address string, c syscall.RawConn) error {
	if err := sharePort(c); err != nil {
		return err
	}
	return controlSocket(network, address, c)
}

// sharePort sets SO_REUSEPORT on a socket. Set on the first socket after
// its bind, it lets the further readers' sockets join that port; the
// kernel load-balances datagrams over all of them.
func sharePort(c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("setting SO_REUSEPORT: %w", serr)
	}
	return nil
}
