package fsm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Snapshot format, version 7:
//
//	header  "WLNSSNAP" uvarint(version)
//	records tag byte, uvarint(payload length), payload
//	        state first, the zone serial once it counts changes
//	        (zoneserial.go), then the entities and the pair and VERP
//	        tables in the index's flat form (snapshot_flat.go), tokens by
//	        name, challenges by ID, suppressions by (sender, entity), rate
//	        windows by key, the request-ID window in apply order, zone
//	        records by (name, type, data), delegations by prefix, dismissed
//	        suggestions by entity IDs (dismissal.go); before a flat part,
//	        a padding record (tagPad, up to 7 zero bytes) when needed to
//	        start its payload on an 8-byte boundary of the file
//	end     tagEnd, then the CRC-32C (big endian) of every byte before it
//
// Integers are varints; strings are uvarint length and bytes. Version 1
// (before challenges) has no challenge records and three fewer counts in
// the state record; version 2 has no sliding rate windows; version 3 no
// zone records (and one count fewer) and no delegations; versions 1 to 4
// hold one record per pair (by entity and sender) and per VERP source (by
// entity and domain) instead of the flat tables; versions 1 to 5 one
// record per entity (tagEntity, by ID) instead of the entities' flat
// parts; versions 1 to 6 have no padding records. Restore reads all
// seven; Persist writes version 7.
const (
	snapMagic   = "WLNSSNAP"
	snapVersion = SnapshotFormat
	// maxRecord bounds one record's payload, so a corrupt length cannot
	// make Restore allocate without limit.
	maxRecord = 1 << 20
)

// SnapshotFormat is the format Capture writes; Restore reads it and every
// older one.
const SnapshotFormat = 7

// Record tags.
const (
	tagEnd byte = iota
	tagState
	tagEntity
	tagPair
	tagVerp
	tagToken
	tagDedup
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fsmSnapshot is the state captured by FSM.Capture: immutable values the
// FSM no longer writes.
type fsmSnapshot struct {
	view  *index.View
	st    state
	dedup []dedupEntry
	maxT  int64
	zs    zoneSerial
}

// WriteTo encodes the snapshot into w. The same state always gives the
// same bytes.
func (s *fsmSnapshot) WriteTo(w io.Writer) (int64, error) {
	sw := &snapWriter{w: bufio.NewWriterSize(w, 256<<10), crc: crc32.New(castagnoli)}
	c := s.view.Counts()
	toks := s.st.tokens.sorted()
	chs, sups, wins := s.st.ch.sorted()
	zone := s.view.ZoneRecords()
	delegs := s.view.Delegations()
	sw.write([]byte(snapMagic))
	sw.e.uvarint(snapVersion)
	sw.write(sw.e.b)
	sw.e.b = sw.e.b[:0]
	sw.stateRecord(s, c.Entities, c.Pairs+c.DomainPairs, c.VerpSources, len(toks), len(chs), len(sups), len(wins), zone.Len())
	sw.zoneSerialRecord(s.zs)
	if err := s.view.WriteFlat(sw.flat); err != nil && sw.err == nil {
		sw.err = err
	}
	for _, t := range toks {
		sw.token(t)
	}
	sw.challengeRecords(s.st.ch, chs, sups, wins)
	for _, d := range s.dedup {
		sw.e.str(d.id)
		sw.e.varint(d.time)
		sw.record(tagDedup)
	}
	sw.zoneRecords(zone)
	sw.delegations(delegs)
	sw.dismissals(s.st.sortedDismissals())
	sw.end()
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if sw.err != nil {
		return sw.n, fmt.Errorf("writing snapshot: %w", sw.err)
	}
	return sw.n, nil
}

// snapWriter writes records and keeps the running checksum and size. The
// first error sticks.
type snapWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	n   int64
	e   enc
	hdr [1 + binary.MaxVarintLen64]byte
	err error
}

func (sw *snapWriter) write(b []byte) {
	if sw.err != nil {
		return
	}
	sw.crc.Write(b)
	n, err := sw.w.Write(b)
	sw.n += int64(n)
	sw.err = err
}

// record writes the payload built in sw.e under tag and resets it.
func (sw *snapWriter) record(tag byte) {
	sw.frame(tag, sw.e.b)
	sw.e.b = sw.e.b[:0]
}

// frame writes payload b under tag.
func (sw *snapWriter) frame(tag byte, b []byte) {
	sw.hdr[0] = tag
	n := binary.PutUvarint(sw.hdr[1:], uint64(len(b)))
	sw.write(sw.hdr[:1+n])
	sw.write(b)
}

func (sw *snapWriter) stateRecord(s *fsmSnapshot, ents, pairs, verps, toks, chs, sups, wins, zone int) {
	e := &sw.e
	e.uvarint(s.view.Serial())
	e.uvarint(s.st.lastID)
	e.varint(s.maxT)
	for _, n := range []int{ents, pairs, verps, toks, len(s.dedup), chs, sups, wins, zone} {
		e.uvarint(uint64(n))
	}
	sw.record(tagState)
}

func (sw *snapWriter) token(t *record.Token) {
	e := &sw.e
	e.str(t.Name)
	e.str(t.Hash)
	e.str(string(t.Role))
	e.prefixes(t.Prefixes)
	e.varint(t.Created)
	sw.record(tagToken)
}

// end writes the end tag and the checksum of everything before it.
func (sw *snapWriter) end() {
	sw.write([]byte{tagEnd})
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], sw.crc.Sum32())
	sw.write(sum[:])
}
