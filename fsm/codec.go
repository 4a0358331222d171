package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

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

// errShort means a record ended before its fields did.
var errShort = errors.New("record shorter than its fields")

// dec reads what enc wrote. The first error sticks; later reads return
// zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *dec) varint() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *dec) byte() byte {
	if len(d.b) < 1 {
		d.fail(errShort)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *dec) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail(errShort)
		d.b = nil
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *dec) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errShort)
		d.b = nil
		return ""
	}
	return string(d.bytes(int(n)))
}

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
		d.fail(errShort)
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, bits)
}

func (d *dec) prefixes() []netip.Prefix {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errShort)
		return nil
	}
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

// end checks that the record was read exactly.
func (d *dec) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%d unread bytes at the end of a record", len(d.b)))
	}
	return d.err
}
