package fsm

import (
	"fmt"

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
)

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

// flat writes one flat part as a record.
func (sw *snapWriter) flat(p index.FlatPart, b []byte) error {
	sw.frame(flatTag(p), b)
	return sw.err
}

// flatRecord reads the payload of a flat part of n bytes into the index's
// memory.
func (rs *restored) flatRecord(sr *snapReader, tag byte, n int) error {
	part, since, _ := flatPart(tag)
	if rs.version < since {
		return fmt.Errorf("record tag %d in a format %d snapshot", tag, rs.version)
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
