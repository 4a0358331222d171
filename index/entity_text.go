package index

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"github.com/wlns/wlns/record"
)

// An entity's cold record, in the entities' arena, is two words (seen
// mark, updated) and its text, without the length word a pair's record
// has: the text says where it ends (entityWords).
//
// The text packs the entity's flags (a byte), then what only the API (and
// a TXT answer) reads: name, contact and PTR, each a uvarint length and
// its bytes, then the number of member prefixes (uvarint) and each prefix
// as a tag byte (an IPv4 prefix's length, or v6Tag plus an IPv6 prefix's
// length) and its address's 4 or 16 bytes. An entity with no name and one
// prefix (entLone) leaves out the name and the count: a lone /32 relay
// takes 8 bytes besides its contact and PTR.
const v6Tag = 64

const (
	entSeen    = coldSeen
	entUpdated = coldUpdated
	entHeader  = 2
)

// addEntity appends an entity's cold record and returns its word index.
func (a *arena) addEntity(seen, updated int64, text []byte) uint32 {
	n := uint64(entHeader + (len(text)+3)/4)
	ref := a.reserve(n)
	w := a.chunks[ref>>chunkBits][ref%chunkWords:][:n]
	w[entSeen] = clampTime(seen)
	w[entUpdated] = clampTime(updated)
	w[n-1] = 0 // the text's padding
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&w[entHeader])), len(text)), text)
	a.next = ref + n
	a.live += n
	return uint32(ref)
}

// entityWords is the size of the entity record w starts with, in words.
func entityWords(w []uint32) uint64 {
	s := entityBytes(w)
	t := parseEntityText(s)
	n := len(s) - len(t.prefixes) // through the prefix count
	for b := t.prefixes; t.n > 0; t.n-- {
		_, rest := decodePrefix(b)
		n += len(b) - len(rest)
		b = rest
	}
	return uint64(entHeader + (n+3)/4)
}

// newEntityArena returns an arena for entity records; it leaves word 0
// unused, so that a hot entry's cold reference 0 means "no entity".
func newEntityArena() *arena {
	a := newArena()
	a.next = 1
	return a
}

// dropEntity counts the entity record at ref as garbage.
func (a *arena) dropEntity(c coldView, ref uint32) {
	n := entityWords(c.record(ref))
	a.live -= n
	a.dead += n
}

// entityBytes is the text of the entity record w starts with, and
// whatever follows it to the end of its chunk; the string shares the
// arena.
func entityBytes(w []uint32) string {
	if len(w) <= entHeader {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(&w[entHeader])), 4*(len(w)-entHeader))
}

// entityText is a decoded view of a cold text; its strings share the arena.
type entityText struct {
	flags              byte
	name, contact, ptr string
	n                  int    // member prefixes
	prefixes           string // their encoding
}

// entityFlags is the flags byte of e's text.
func entityFlags(e *record.Entity) byte {
	var f byte
	for _, c := range []struct {
		on   bool
		flag byte
	}{{e.Group, entGroup}, {e.Registered, entRegistered}, {e.Pinned, entPinned}, {e.Name == "" && len(e.Prefixes) == 1, entLone}} {
		if c.on {
			f |= c.flag
		}
	}
	return f
}

func appendEntityText(b []byte, e *record.Entity) []byte {
	f := entityFlags(e)
	b = append(b, f)
	strs := []string{e.Name, e.Contact, e.PTR}
	if f&entLone != 0 {
		strs = strs[1:]
	}
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if f&entLone == 0 {
		b = binary.AppendUvarint(b, uint64(len(e.Prefixes)))
	}
	for _, p := range e.Prefixes {
		a := p.Addr()
		if a.Is4() {
			x := a.As4()
			b = append(append(b, byte(p.Bits())), x[:]...)
		} else {
			x := a.As16()
			b = append(append(b, byte(v6Tag+p.Bits())), x[:]...)
		}
	}
	return b
}

func parseEntityText(s string) entityText {
	t := entityText{flags: s[0]}
	s = s[1:]
	if t.flags&entLone != 0 {
		t.contact, s = cutString(s)
		t.ptr, s = cutString(s)
		t.n, t.prefixes = 1, s
		return t
	}
	t.name, s = cutString(s)
	t.contact, s = cutString(s)
	t.ptr, s = cutString(s)
	n, s := cutUvarint(s)
	t.n, t.prefixes = int(n), s
	return t
}

// cutUvarint reads a uvarint off s.
func cutUvarint(s string) (uint64, string) {
	var x uint64
	for i, sh := 0, uint(0); i < len(s); i, sh = i+1, sh+7 {
		c := s[i]
		x |= uint64(c&0x7f) << sh
		if c < 0x80 {
			return x, s[i+1:]
		}
	}
	return x, ""
}

// cutString reads a length-prefixed string off s.
func cutString(s string) (string, string) {
	n, s := cutUvarint(s)
	n = min(n, uint64(len(s)))
	return s[:n], s[n:]
}

// decodePrefix reads one encoded prefix off s.
func decodePrefix(s string) (netip.Prefix, string) {
	tag := s[0]
	if tag < v6Tag {
		a := netip.AddrFrom4([4]byte{s[1], s[2], s[3], s[4]})
		return netip.PrefixFrom(a, int(tag)), s[5:]
	}
	var b [16]byte
	copy(b[:], s[1:17])
	return netip.PrefixFrom(netip.AddrFrom16(b), int(tag-v6Tag)), s[17:]
}
