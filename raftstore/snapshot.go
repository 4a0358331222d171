package raftstore

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Snapshot format, version 2:
//
//	header  "WLNSSNAP" uvarint(version)
//	records tag byte, uvarint(payload length), payload
//	        state first, then entities by ID, pairs by (entity, sender),
//	        VERP sources by (entity, domain), tokens by name, challenges by
//	        ID, suppressions by (sender, entity), rate windows by key, the
//	        request-ID window in apply order, zone records by (name, type,
//	        data), delegations by prefix
//	end     tagEnd, then the CRC-32C (big endian) of every byte before it
//
// Integers are varints; strings are uvarint length and bytes. Version 1
// (before challenges) has no challenge records and three fewer counts in
// the state record; version 2 has no sliding rate windows; version 3 no
// zone records (and one count fewer) and no delegations. Restore reads all four, and a state an older version can hold is written in it (see
// snapFormat).
const (
	snapMagic   = "WLNSSNAP"
	snapVersion = 4
	// maxRecord bounds one record's payload, so a corrupt length cannot
	// make Restore allocate without limit.
	maxRecord = 1 << 20
)

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

// fsmSnapshot is the state captured by FSM.Snapshot: immutable values the
// FSM no longer writes.
type fsmSnapshot struct {
	view    *index.View
	st      state
	dedup   []dedupEntry
	maxT    int64
	metrics *metrics
}

// Persist streams the snapshot into sink, cancelling it on error.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	start := time.Now()
	n, err := s.WriteTo(sink)
	if err != nil {
		if cerr := sink.Cancel(); cerr != nil {
			err = fmt.Errorf("%w (cancelling: %w)", err, cerr)
		}
		return fmt.Errorf("persisting snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("closing snapshot sink: %w", err)
	}
	s.metrics.snapshotPersisted(time.Since(start), n)
	return nil
}

// Release does nothing: the snapshot holds only garbage-collected values.
func (s *fsmSnapshot) Release() {}

// WriteTo encodes the snapshot into w. The same state always gives the
// same bytes.
func (s *fsmSnapshot) WriteTo(w io.Writer) (int64, error) {
	sw := &snapWriter{w: bufio.NewWriterSize(w, 256<<10), crc: crc32.New(castagnoli)}
	ents, pairs, verps := s.sorted()
	toks := s.st.tokens.sorted()
	chs, sups, wins := s.st.ch.sorted()
	zone := s.view.ZoneRecords()
	delegs := s.view.Delegations()
	sw.format = max(snapFormat(toks, len(chs)+len(sups)+len(wins), wins), zoneRecordFormat(zone), delegationFormat(delegs))
	sw.write([]byte(snapMagic))
	sw.e.uvarint(sw.format)
	sw.write(sw.e.b)
	sw.e.b = sw.e.b[:0]
	sw.stateRecord(s, len(ents), len(pairs), len(verps), len(toks), len(chs), len(sups), len(wins), zone.Len())
	for _, e := range ents {
		sw.entity(e)
	}
	for _, p := range pairs {
		sw.pair(p, tagPair)
	}
	for _, v := range verps {
		sw.pair(v, tagVerp)
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
	sw.end()
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if sw.err != nil {
		return sw.n, fmt.Errorf("writing snapshot: %w", sw.err)
	}
	return sw.n, nil
}

// sorted collects the view's records in snapshot order.
func (s *fsmSnapshot) sorted() ([]*record.Entity, []index.Ref, []index.Ref) {
	c := s.view.Counts()
	ents := make([]*record.Entity, 0, c.Entities)
	s.view.Entities(func(e *record.Entity) bool { ents = append(ents, e); return true })
	slices.SortFunc(ents, func(a, b *record.Entity) int { return cmp.Compare(a.ID, b.ID) })
	pairs := make([]index.Ref, 0, c.Pairs+c.DomainPairs)
	s.view.EachPair(func(p index.Ref) bool { pairs = append(pairs, p); return true })
	slices.SortFunc(pairs, byEntityKey)
	verps := make([]index.Ref, 0, c.VerpSources)
	s.view.EachVerp(func(v index.Ref) bool { verps = append(verps, v); return true })
	slices.SortFunc(verps, byEntityKey)
	return ents, pairs, verps
}

// byEntityKey orders pairs by (entity, sender), VERP sources by (entity,
// domain).
func byEntityKey(a, b index.Ref) int {
	return cmp.Or(cmp.Compare(a.Entity(), b.Entity()), strings.Compare(a.Key(), b.Key()))
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
	// format is the format being written (see snapFormat).
	format uint64
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
	sw.hdr[0] = tag
	n := binary.PutUvarint(sw.hdr[1:], uint64(len(sw.e.b)))
	sw.write(sw.hdr[:1+n])
	sw.write(sw.e.b)
	sw.e.b = sw.e.b[:0]
}

func (sw *snapWriter) stateRecord(s *fsmSnapshot, ents, pairs, verps, toks, chs, sups, wins, zone int) {
	e := &sw.e
	e.uvarint(s.view.Serial())
	e.uvarint(s.st.lastID)
	e.varint(s.maxT)
	counts := []int{ents, pairs, verps, toks, len(s.dedup), chs, sups, wins, zone}
	switch {
	case sw.format < 2:
		counts = counts[:5]
	case sw.format < 4:
		counts = counts[:8]
	}
	for _, n := range counts {
		e.uvarint(uint64(n))
	}
	sw.record(tagState)
}

func (sw *snapWriter) entity(ent *record.Entity) {
	e := &sw.e
	e.uvarint(ent.ID)
	e.str(ent.Name)
	var flags byte
	if ent.Group {
		flags |= 1
	}
	if ent.Registered {
		flags |= 2
	}
	e.byte(flags)
	e.prefixes(ent.Prefixes)
	e.str(ent.Contact)
	e.str(ent.PTR)
	e.meta(&ent.Meta)
	sw.record(tagEntity)
}

// pair writes a pair, or under tagVerp a VERP source: the two share a
// layout.
func (sw *snapWriter) pair(r index.Ref, tag byte) {
	e := &sw.e
	e.uvarint(r.Entity())
	e.str(r.Key())
	e.str(r.By())
	e.str(r.Method())
	e.times(r.Pinned(), r.Created(), r.Updated(), r.LastQueried())
	sw.record(tag)
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
