package raftstore

import (
	"fmt"

	"github.com/wlns/wlns/index"
)

// Format 5 holds the pair and VERP tables in the index's flat form
// (index/flat.go): blocks of 32-byte entries in key order, the arena's
// by/method names, and the arena's words, each part one record under its
// own tag, in this order, where formats 1 to 4 had one tagPair or tagVerp
// record per pair. A restore reads each part straight into the memory the
// index keeps.
const (
	tagFlatPairs byte = iota + tagDelegation + 1
	tagFlatVerps
	tagFlatName
	tagFlatProv
	tagFlatArena
)

// flatTag is the record tag of a flat part.
func flatTag(p index.FlatPart) byte { return tagFlatPairs + byte(p-index.FlatPairs) }

// flatPart is the flat part a record tag holds, if any.
func flatPart(tag byte) (index.FlatPart, bool) {
	if tag < tagFlatPairs || tag > tagFlatArena {
		return 0, false
	}
	return index.FlatPairs + index.FlatPart(tag-tagFlatPairs), true
}

// flat writes one flat part as a record.
func (sw *snapWriter) flat(p index.FlatPart, b []byte) error {
	sw.frame(flatTag(p), b)
	return sw.err
}

// flatRecord reads the payload of a flat part of n bytes into the index's
// memory.
func (rs *restored) flatRecord(sr *snapReader, tag byte, n int) error {
	part, _ := flatPart(tag)
	if rs.version < 5 {
		return fmt.Errorf("record tag %d in a format %d snapshot", tag, rs.version)
	}
	buf, err := rs.flat.Part(part, n)
	if err != nil {
		return err
	}
	return sr.full(buf)
}

// finishFlat checks and builds the tables of a format-5 snapshot once
// every record is read and counted.
func (rs *restored) finishFlat() error {
	if rs.version < 5 {
		return nil
	}
	v := rs.txn.View()
	return rs.flat.Finish(func(id uint64) bool { return v.EntityRef(id).Found() })
}
