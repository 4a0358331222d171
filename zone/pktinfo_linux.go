//go:build linux

package zone

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// wildcardSupported: on Linux a wildcard socket learns each query's
// destination address from IP_PKTINFO / IPV6_PKTINFO and answers from it.
const wildcardSupported = true

// ctrlSize holds one IPv4 or IPv6 packet-info control message.
const ctrlSize = 64

// ctrlBuf is a control-message buffer, 8-byte aligned for struct cmsghdr.
type ctrlBuf [ctrlSize / 8]uint64

func (c *ctrlBuf) bytes() []byte { return unsafe.Slice((*byte)(unsafe.Pointer(c)), ctrlSize) }

// setPktinfo asks the kernel for the destination address of each datagram.
func setPktinfo(fd int, network string) error {
	if network == "udp6" {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
}

// replyPktinfo turns the packet info received with a query into the control
// message that makes the reply leave from the address the query was sent to.
// It returns the length to send, 0 when in holds no packet info.
func replyPktinfo(in []byte, out *ctrlBuf) int {
	for len(in) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&in[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(in) {
			return 0
		}
		data := in[unix.SizeofCmsghdr:l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			var pi unix.Inet4Pktinfo
			copy(pi.Spec_dst[:], data[8:12]) // the received ipi_addr
			return putCmsg(out, unix.IPPROTO_IP, unix.IP_PKTINFO, unsafe.Pointer(&pi), unix.SizeofInet4Pktinfo)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			var pi unix.Inet6Pktinfo
			copy(pi.Addr[:], data[:16])
			if pi.Addr[0] == 0xfe && pi.Addr[1]&0xc0 == 0x80 { // link-local: keep the interface
				pi.Ifindex = *(*uint32)(unsafe.Pointer(&data[16]))
			}
			return putCmsg(out, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unsafe.Pointer(&pi), unix.SizeofInet6Pktinfo)
		}
		in = in[min(len(in), unix.CmsgSpace(l-unix.SizeofCmsghdr)):]
	}
	return 0
}

func putCmsg(out *ctrlBuf, level, typ int32, data unsafe.Pointer, n int) int {
	b := out.bytes()
	clear(b)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(n))
	copy(b[unix.CmsgLen(0):], unsafe.Slice((*byte)(data), n))
	return unix.CmsgSpace(n)
}
