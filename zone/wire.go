package zone

import "encoding/binary"

// DNS constants used on the wire.
const (
	headerLen = 12

	typeA   = 1
	typeNS  = 2
	typeSOA = 6
	typeTXT = 16
	typeOPT = 41
	// optNSID is the EDNS option code of NSID (RFC 5001).
	optNSID   = 3
	typeIXFR  = 251
	typeAXFR  = 252
	typeANY   = 255
	classIN   = 1
	classANY  = 255
	ednsSize  = 1232
	maxTCPMsg = 65535

	rcodeNoError  = 0
	rcodeFormErr  = 1
	rcodeServFail = 2
	rcodeNXDomain = 3
	rcodeNotImp   = 4
	rcodeRefused  = 5
	rcodeBadVers  = 16

	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagCD = 1 << 4

	// ptrQName is a compression pointer to the question name at offset 12.
	ptrQName = 0xc000 | headerLen
)

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }

func put16(b []byte, v int) { binary.BigEndian.PutUint16(b, uint16(v)) }

func app16(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }

func app32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// skipName returns the offset after a possibly compressed name.
func skipName(msg []byte, off int) (int, bool) {
	for n := 0; n < 128; n++ {
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return 0, false
			}
			return off + 2, true
		case l&0xc0 != 0:
			return 0, false
		}
		off += 1 + l
	}
	return 0, false
}

// appRRHeader appends an RR header with the owner as a compression pointer
// and returns where the RDLENGTH field is, for patching.
func appRRHeader(b []byte, owner, rtype int, ttl uint32) ([]byte, int) {
	b = app16(b, owner)
	b = app16(b, rtype)
	b = app16(b, classIN)
	b = app32(b, ttl)
	at := len(b)
	return app16(b, 0), at
}

// endRR patches the RDLENGTH at at.
func endRR(b []byte, at int) []byte {
	put16(b[at:], len(b)-at-2)
	return b
}
