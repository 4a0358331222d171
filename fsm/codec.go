package fsm

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/wlns/wlns/command/wire"
	"github.com/wlns/wlns/record"
)

// enc appends the compact binary forms the snapshot is made of.
type enc struct{ b []byte }

func (e *enc) uvarint(x uint64) { e.b = binary.AppendUvarint(e.b, x) }
func (e *enc) varint(x int64)   { e.b = binary.AppendVarint(e.b, x) }
func (e *enc) byte(c byte)      { e.b = append(e.b, c) }

func (e *enc) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// prefix writes a prefix as one byte (its length in bits for IPv4, 64 plus
// its length for IPv6), then the 4 or 16 address bytes.
func (e *enc) prefix(p netip.Prefix) {
	a := p.Addr()
	if a.Is4() {
		e.byte(byte(p.Bits()))
		b := a.As4()
		e.b = append(e.b, b[:]...)
		return
	}
	e.byte(v6Bits + byte(p.Bits()))
	b := a.As16()
	e.b = append(e.b, b[:]...)
}

// v6Bits is added to an IPv6 prefix length in its first byte.
const v6Bits = 64

func (e *enc) prefixes(ps []netip.Prefix) {
	e.uvarint(uint64(len(ps)))
	for _, p := range ps {
		e.prefix(p)
	}
}

// dec reads what enc wrote (a wire.Reader: the first error sticks; later
// reads return zero values).
type dec struct{ *wire.Reader }

// newDec reads b.
func newDec(b []byte) *dec { return &dec{wire.NewReader(b)} }

func (d *dec) fail(err error)     { d.Fail(err) }
func (d *dec) uvarint() uint64    { return d.Uvarint() }
func (d *dec) varint() int64      { return d.Varint() }
func (d *dec) byte() byte         { return d.Byte() }
func (d *dec) bytes(n int) []byte { return d.Fixed(n) }
func (d *dec) str() string        { return d.Text() }
func (d *dec) end() error         { return d.End() }

func (d *dec) prefix() netip.Prefix {
	c := d.byte()
	n := 4
	bits := int(c)
	switch {
	case c <= 32:
	case c >= v6Bits && c <= v6Bits+128:
		n, bits = 16, int(c-v6Bits)
	default:
		d.fail(fmt.Errorf("bad prefix length byte %d", c))
		return netip.Prefix{}
	}
	a, ok := netip.AddrFromSlice(d.bytes(n))
	if !ok {
		d.fail(wire.ErrShort)
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, bits)
}

func (d *dec) prefixes() []netip.Prefix {
	n := d.Count(1)
	out := make([]netip.Prefix, 0, n)
	for range n {
		out = append(out, d.prefix())
	}
	return out
}

// meta reads the replicated fields of a record's Meta as formats 1 to 5
// wrote them for entities (and 1 to 4 for pairs): a flags byte (pinned),
// Created, Updated as its distance from Created, LastQueried.
func (d *dec) meta(m *record.Meta) {
	flags := d.byte()
	m.Pinned = flags&1 != 0
	m.Created = d.varint()
	m.Updated = m.Created + d.varint()
	m.LastQueried = d.varint()
}
