package qname

import "net/netip"

// RevIP is what ParseRevIP found under a zone label.
type RevIP struct {
	// Addr is the address when Full; IPv4 addresses are 4-byte.
	Addr netip.Addr
	// Full is true when the labels nearest the zone label form a complete
	// address; Used says how many (4 or 32).
	Full bool
	Used int
	// Partial is true when all the labels together form an incomplete but
	// well-formed rev-ip (IPv4 or IPv6). A name can be both Full and Partial:
	// 4.3.2.1 is IPv4 1.2.3.4 and the first nibbles of 1234::/16.
	Partial bool
}

// ParseRevIP reads the reversed address from labels [0, end) of n, where
// label end-1 is nearest the zone label. It is IPv6 when the 32 labels
// nearest the zone label are single hex digits, otherwise IPv4 when the 4
// nearest are decimal octets.
func ParseRevIP(n *Name, end int) RevIP {
	var r RevIP
	hexRun, nib := 0, [32]byte{}
	for i := end - 1; i >= 0 && hexRun < 32; i-- {
		v, ok := hexNibble(n.Label(i))
		if !ok {
			break
		}
		nib[hexRun] = v
		hexRun++
	}
	if hexRun == 32 {
		var a [16]byte
		for i := range a {
			a[i] = nib[2*i]<<4 | nib[2*i+1]
		}
		r.Addr, r.Full, r.Used = netip.AddrFrom16(a).Unmap(), true, 32
		return r
	}
	r.Partial = end > 0 && hexRun == end
	decRun, oct := 0, [4]byte{}
	for i := end - 1; i >= 0 && decRun < 4; i-- {
		v, ok := decOctet(n.Label(i))
		if !ok {
			break
		}
		oct[decRun] = v
		decRun++
	}
	if decRun == 4 {
		r.Addr, r.Full, r.Used = netip.AddrFrom4(oct), true, 4
	} else if end > 0 && decRun == end {
		r.Partial = true
	}
	return r
}

func hexNibble(l []byte) (byte, bool) {
	if len(l) != 1 {
		return 0, false
	}
	c := l[0]
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func decOctet(l []byte) (byte, bool) {
	if len(l) == 0 || len(l) > 3 || (len(l) > 1 && l[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range l {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 255 {
		return 0, false
	}
	return byte(v), true
}
