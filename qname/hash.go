package qname

// HashLabelLen is the length of a hashed-address label: 256 bits of SHA-256
// in unpadded base32.
const HashLabelLen = 52

// DecodeHash decodes a hashed-address label (unpadded RFC 4648 base32 of a
// SHA-256, either case) into dst and reports whether label is one. The four
// bits past the 256th must be zero, so each hash has exactly one label. It
// is record.DecodeHashLabel without the allocation encoding/base32 makes.
func DecodeHash(label []byte, dst *[32]byte) bool {
	if len(label) != HashLabelLen {
		return false
	}
	var acc uint64
	bits, o := 0, 0
	for _, c := range label {
		var v byte
		switch {
		case c >= 'a' && c <= 'z':
			v = c - 'a'
		case c >= 'A' && c <= 'Z':
			v = c - 'A'
		case c >= '2' && c <= '7':
			v = c - '2' + 26
		default:
			return false
		}
		acc = acc<<5 | uint64(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			if o == len(dst) {
				return false
			}
			dst[o] = byte(acc >> bits)
			o++
		}
	}
	return o == len(dst) && acc&(1<<bits-1) == 0
}
