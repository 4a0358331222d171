//go:build unix

package zone

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort: every reader gets its own socket on the port.
const reusePort = true

// controlSocket sets SO_REUSEPORT (one UDP socket per reader on one port)
// and large socket buffers, so bursts are not dropped.
func controlSocket(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
			return
		}
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
