package qname

import "errors"

// Errors from Name.ReadWire. They are fixed values so that the server's
// error path allocates nothing.
var (
	// ErrTruncated means the message ended inside the name.
	ErrTruncated = errors.New("name runs past the end of the message")
	// ErrPointer means the name uses compression, which a question must not.
	ErrPointer = errors.New("compression pointer in question name")
	// ErrLabelType means a label length byte has the reserved bits set.
	ErrLabelType = errors.New("unsupported label type")
	// ErrNameTooLong means the name is over 255 octets on the wire.
	ErrNameTooLong = errors.New("name longer than 255 octets")
)

// MaxLabels is the most labels a 255-octet name can have, without the root.
const MaxLabels = 127

// Name is a domain name read off the wire and lower-cased (ASCII only), kept
// in wire form so that label i is easy to find and its offset in the message
// is known. It is a value type meant to live on the stack; it holds no
// pointers.
type Name struct {
	wire [255]byte
	off  [MaxLabels + 1]uint8
	n    int // labels, without the root
	size int // wire length including the root byte
}

// ReadWire reads an uncompressed name from msg at off and returns the offset
// just after it.
func (n *Name) ReadWire(msg []byte, off int) (int, error) {
	n.n, n.size = 0, 0
	for {
		if off >= len(msg) {
			return 0, ErrTruncated
		}
		l := int(msg[off])
		switch {
		case l&0xc0 == 0xc0:
			return 0, ErrPointer
		case l&0xc0 != 0:
			return 0, ErrLabelType
		}
		if n.size+1+l > len(n.wire) {
			return 0, ErrNameTooLong
		}
		if off+1+l > len(msg) {
			return 0, ErrTruncated
		}
		n.wire[n.size] = byte(l)
		if l == 0 {
			n.size++
			return off + 1, nil
		}
		n.off[n.n] = uint8(n.size)
		n.n++
		lowerInto(n.wire[n.size+1:n.size+1+l], msg[off+1:off+1+l])
		n.size += 1 + l
		off += 1 + l
	}
}

func lowerInto(dst, src []byte) {
	for i, c := range src {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

// Len returns the number of labels, without the root.
func (n *Name) Len() int { return n.n }

// WireLen returns the length of the name on the wire, root included.
func (n *Name) WireLen() int { return n.size }

// Label returns label i (0 is the leftmost), lower-cased. The slice aliases n.
func (n *Name) Label(i int) []byte {
	o := int(n.off[i])
	return n.wire[o+1 : o+1+int(n.wire[o])]
}

// Offset returns where label i starts within the name's wire form; add the
// name's offset in the message to get a compression pointer target.
func (n *Name) Offset(i int) int { return int(n.off[i]) }

// HasSuffix reports whether the last labels of n are, in order, the labels
// of suffix (wire form, lower case, ending with the root byte), and returns
// the index of the first of them.
func (n *Name) HasSuffix(suffix []byte) (int, bool) {
	if len(suffix) > n.size {
		return 0, false
	}
	start := n.size - len(suffix)
	if string(n.wire[start:n.size]) != string(suffix) {
		return 0, false
	}
	if start == n.size-1 {
		return n.n, true // the root
	}
	for i := n.n - 1; i >= 0; i-- {
		if int(n.off[i]) == start {
			return i, true
		}
		if int(n.off[i]) < start {
			break
		}
	}
	return 0, false
}

// AppendJoined appends labels [from, to) joined by sep to dst.
func (n *Name) AppendJoined(dst []byte, from, to int, sep byte) []byte {
	for i := from; i < to; i++ {
		if i > from {
			dst = append(dst, sep)
		}
		dst = append(dst, n.Label(i)...)
	}
	return dst
}
