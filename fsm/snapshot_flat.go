package fsm

import (
	"fmt"
	"strings"

	"github.com/wlns/wlns/index"
)

// Format 5 holds the pair and VERP tables in the index's flat form
// (index/flat.go): blocks of 32-byte entries in key order, the arena's
// by/method names, and the arena's words, each part one record under its
// own tag, in this order, where formats 1 to 4 had one tagPair or tagVerp
// record per pair. Format 6 holds the entities in it too, before the
// pairs: their hot entries in pages by ID, their arena, and the IPv4 /32
// table, where formats 1 to 5 had one tagEntity record per entity. A
// restore reads each part straight into the memory the index keeps.
const (
	tagFlatPairs byte = iota + tagDelegation + 1
	tagFlatVerps
	tagFlatName
	tagFlatProv
	tagFlatArena
)

// The entities' flat parts (format 6).
const (
	tagFlatEntHot byte = iota + tagZoneSerial + 1
	tagFlatEntSparse
	tagFlatEntArena
	tagFlatHost4
	// tagPad is a padding record of up to flatAlign-1 zero bytes that
	// puts the next flat part's payload on a flatAlign boundary of the
	// file (format 7), so that a restore from the mapped file serves the
	// part where it lies (index.FlatLoader.Alias).
	tagPad
)

// flatAlign is the file alignment format 7 gives flat parts' payloads: an
// entry's (uint64 fields); a mapping starts on a page.
const flatAlign = 8

// flatTags are the record tags of the flat parts, and the first format
// that holds each.
var flatTags = []struct {
	part    index.FlatPart
	tag     byte
	version uint64
}{
	{index.FlatPairs, tagFlatPairs, 5}, {index.FlatVerps, tagFlatVerps, 5}, {index.FlatName, tagFlatName, 5},
	{index.FlatProv, tagFlatProv, 5}, {index.FlatArena, tagFlatArena, 5},
	{index.FlatEntHot, tagFlatEntHot, 6}, {index.FlatEntSparse, tagFlatEntSparse, 6},
	{index.FlatEntArena, tagFlatEntArena, 6}, {index.FlatHost4, tagFlatHost4, 6},
}

// flatTag is the record tag of a flat part.
func flatTag(p index.FlatPart) byte {
	for _, f := range flatTags {
		if f.part == p {
			return f.tag
		}
	}
	panic(fmt.Sprintf("fsm: flat part %d has no tag", p))
}

// flatPart is the flat part a record tag holds, if any, and the first
// format that holds it.
func flatPart(tag byte) (index.FlatPart, uint64, bool) {
	for _, f := range flatTags {
		if f.tag == tag {
			return f.part, f.version, true
		}
	}
	return 0, 0, false
}

// flat writes one flat part as a record, its payload aligned.
func (sw *snapWriter) flat(p index.FlatPart, b []byte) error {
	if len(b) > 0 {
		sw.align(len(b))
	}
	sw.frame(flatTag(p), b)
	return sw.err
}

// align writes a padding record when a record of an n-byte payload written
// next would not start its payload on a flatAlign boundary. The padding
// record (tag, one length byte, k zero bytes) moves it by 2+k bytes.
func (sw *snapWriter) align(n int) {
	head := int64(1 + uvarintLen(uint64(n)))
	m := int((sw.n + head) % flatAlign)
	if m == 0 {
		return
	}
	var zeros [flatAlign]byte
	sw.frame(tagPad, zeros[:(2*flatAlign-2-m)%flatAlign])
}

// uvarintLen is how many bytes binary.PutUvarint writes for x.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// restorePad checks a padding record: format 7 on, fewer than flatAlign
// bytes, all zero (so the same state keeps one encoding).
func (rs *restored) restorePad(d *dec) error {
	if rs.version < 7 {
		return fmt.Errorf("record tag %d in a format %d snapshot", tagPad, rs.version)
	}
	n := d.Left()
	if b := d.bytes(n); n >= flatAlign || strings.Trim(string(b), "\x00") != "" {
		return fmt.Errorf("a padding record of %d bytes that are not all zero or too many", n)
	}
	return nil
}

// flatRecord reads the payload of a flat part of n bytes into the index's
// memory.
func (rs *restored) flatRecord(sr *snapReader, tag byte, n int) error {
	part, since, _ := flatPart(tag)
	if rs.version < since {
		return fmt.Errorf("record tag %d in a format %d snapshot", tag, rs.version)
	}
	if sr.mem != nil { // a snapshot in memory: its parts are used where they lie
		b, err := sr.slice(n)
		if err != nil {
			return err
		}
		// Only format 7 lays parts out for it: an older one's few parts
		// that happen to be aligned would keep the whole mapping, and its
		// pages, for a few bytes.
		if rs.version >= 7 && index.InPlace(b) {
			rs.inPlace += int64(n)
			if part.Written() {
				rs.written = append(rs.written, b)
			}
			return rs.flat.Alias(part, b)
		}
		buf, err := rs.flat.Part(part, n)
		copy(buf, b)
		return err
	}
	buf, err := rs.flat.Part(part, n)
	if err != nil {
		return err
	}
	return sr.full(buf)
}

// finishFlat checks and builds the tables of a format-5 or later
// snapshot once every record is read, and counts a format-6 snapshot's
// entities and notes its groups' names.
func (rs *restored) finishFlat() error {
	if rs.version < 5 {
		return nil
	}
	v := rs.txn.View()
	if err := rs.flat.Finish(func(id uint64) bool { return v.EntityRef(id).Found() }); err != nil {
		return err
	}
	p, vs := rs.flat.Counts()
	rs.n.pairs, rs.n.verps = uint64(p), uint64(vs)
	if rs.version < 6 {
		return nil
	}
	rs.n.entities = uint64(v.Counts().Entities)
	v.EachEntity(func(e index.EntityRef) bool {
		if e.Group() { // rs.st is not published yet: no copy (setGroup's) needed
			rs.st.groups[groupKey(e.Name())] = e.ID()
		}
		return true
	})
	return nil
}
