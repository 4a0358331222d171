package fsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// snapCounts is how many records of each kind a snapshot holds.
type snapCounts struct {
	entities, pairs, verps, tokens, dedup uint64
	// Since version 2.
	challenges, suppressions, windows uint64
	// Since version 4.
	zoneRecords uint64
}

// restored is a snapshot read into an uncommitted index transaction.
type restored struct {
	ix     *index.Index
	txn    *index.Txn
	st     state
	dd     *dedup
	serial uint64
	// version is the snapshot format being read.
	version uint64
	n       snapCounts
	want    snapCounts
	// zone are the zone records read so far.
	zone *record.ZoneRecords
	// zs is the zone serial; a record gives it when it counts
	// (zoneserial.go).
	zs zoneSerial
	// flat reads a format-5 snapshot's pair and VERP tables.
	flat *index.FlatLoader
	// inPlace counts the bytes of flat parts the index serves from the
	// snapshot's own memory (readSnapshotBytes).
	inPlace int64
	// written are the parts served in place that the query path writes
	// into (index.FlatPart.Written).
	written [][]byte
}

// readSnapshot reads a whole snapshot stream into a new transaction on ix,
// which it does not commit. Every error wraps ErrCorruptSnapshot.
func readSnapshot(r io.Reader, ix *index.Index) (*restored, error) {
	sr := &snapReader{r: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(castagnoli)}
	rs := &restored{ix: ix, st: newState(), dd: newDedup()}
	if err := rs.read(sr); err != nil {
		return nil, fmt.Errorf("%w: at byte %d: %w", ErrCorruptSnapshot, sr.n, err)
	}
	return rs, nil
}

// readSnapshotBytes reads a whole snapshot held in data, as readSnapshot
// does, but checks its checksum first in one pass and hands the index the
// flat parts where they lie in data (aligned ones: format 7), so the index
// serves from data's memory: see FSM.RestoreInPlace.
func readSnapshotBytes(data []byte, ix *index.Index) (*restored, error) {
	if len(data) < len(snapMagic)+4 {
		return nil, fmt.Errorf("%w: truncated: %d bytes", ErrCorruptSnapshot, len(data))
	}
	body := data[:len(data)-4]
	if got, want := binary.BigEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); got != want {
		return nil, fmt.Errorf("%w: checksum mismatch: stored %08x, computed %08x over %d bytes", ErrCorruptSnapshot, got, want, len(body))
	}
	sr := &snapReader{mem: body}
	rs := &restored{ix: ix, st: newState(), dd: newDedup()}
	if err := rs.read(sr); err != nil {
		return nil, fmt.Errorf("%w: at byte %d: %w", ErrCorruptSnapshot, sr.n, err)
	}
	return rs, nil
}

func (rs *restored) read(sr *snapReader) error {
	v, err := sr.header()
	if err != nil {
		return err
	}
	rs.version = v
	intern := map[string]string{}
	for first := true; ; first = false {
		tag, n, err := sr.head()
		if err != nil {
			return err
		}
		if first != (tag == tagState) {
			return errors.New("the state record must come first, once")
		}
		if tag == tagEnd {
			return rs.end(sr)
		}
		if _, _, ok := flatPart(tag); ok {
			if err := rs.flatRecord(sr, tag, n); err != nil {
				return fmt.Errorf("record tag %d: %w", tag, err)
			}
			continue
		}
		payload, err := sr.payload(n)
		if err != nil {
			return err
		}
		d := newDec(payload)
		if err := rs.apply(tag, d, intern); err != nil {
			return fmt.Errorf("record tag %d: %w", tag, err)
		}
	}
}

// end checks the checksum and the counts after the end record, then
// builds a format-5 snapshot's tables.
func (rs *restored) end(sr *snapReader) error {
	if err := sr.checksum(); err != nil {
		return err
	}
	if err := rs.finishFlat(); err != nil {
		return err
	}
	if rs.n != rs.want {
		return fmt.Errorf("snapshot declares %+v records but holds %+v", rs.want, rs.n)
	}
	rs.txn.SetZoneRecords(rs.zone)
	if !rs.zs.counting {
		rs.zs.n = legacySerial(rs.dd.maxT)
	}
	rs.txn.SetZoneSerial(rs.zs.n)
	return nil
}

// apply decodes one record into the restore.
func (rs *restored) apply(tag byte, d *dec, intern map[string]string) error {
	switch tag {
	case tagState:
		rs.serial, rs.st.lastID, rs.dd.maxT = d.uvarint(), d.uvarint(), d.varint()
		rs.want = snapCounts{entities: d.uvarint(), pairs: d.uvarint(), verps: d.uvarint(), tokens: d.uvarint(), dedup: d.uvarint()}
		if rs.version >= 2 {
			rs.want.challenges, rs.want.suppressions, rs.want.windows = d.uvarint(), d.uvarint(), d.uvarint()
		}
		if rs.version >= 4 {
			rs.want.zoneRecords = d.uvarint()
		}
		if err := checkEntityID("the last entity ID", rs.st.lastID); err != nil {
			return err
		}
		rs.txn = rs.ix.BeginEmpty()
		rs.txn.SetSerial(rs.serial)
		rs.flat = rs.txn.LoadFlat()
	case tagEntity:
		if rs.version >= 6 {
			return errors.New("an entity record in a format-6 snapshot")
		}
		ent := decodeEntity(d)
		if err := d.end(); err != nil {
			return err
		}
		if err := checkEntityID("an entity", ent.ID); err != nil {
			return err
		}
		rs.txn.PutEntity(ent)
		if ent.Group { // rs.st is not published yet: no copy (setGroup's) needed
			rs.st.groups[groupKey(ent.Name)] = ent.ID
		}
		rs.n.entities++
	case tagPair:
		if rs.version >= 5 {
			return errors.New("a pair record in a format-5 snapshot")
		}
		p := &record.Pair{Entity: d.uvarint(), Sender: d.str(), By: internStr(intern, d.str()), Method: internStr(intern, d.str())}
		d.meta(&p.Meta)
		if err := d.end(); err != nil {
			return err
		}
		if err := checkEntityID("a pair's entity", p.Entity); err != nil {
			return err
		}
		rs.txn.PutPair(p)
		rs.n.pairs++
	case tagVerp:
		if rs.version >= 5 {
			return errors.New("a VERP record in a format-5 snapshot")
		}
		v := &record.Verp{Entity: d.uvarint(), Domain: d.str(), By: internStr(intern, d.str()), Method: internStr(intern, d.str())}
		d.meta(&v.Meta)
		if err := d.end(); err != nil {
			return err
		}
		if err := checkEntityID("a VERP source's entity", v.Entity); err != nil {
			return err
		}
		rs.txn.PutVerp(v)
		rs.n.verps++
	case tagToken:
		t := &record.Token{Name: d.str(), Hash: d.str(), Role: record.Role(d.str()), Prefixes: d.prefixes(), Created: d.varint()}
		if err := d.end(); err != nil {
			return err
		}
		rs.st.tokens = rs.st.tokens.with(t)
		rs.n.tokens++
	case tagDedup:
		id, t := d.str(), d.varint()
		if err := d.end(); err != nil {
			return err
		}
		rs.dd.q = append(rs.dd.q, dedupEntry{id: id, time: t})
		rs.dd.live[id] = struct{}{}
		rs.n.dedup++
	case tagChallenge, tagSuppression, tagRateWindow, tagSlidingWindow:
		if rs.version < 2 || tag == tagSlidingWindow && rs.version < 3 {
			return fmt.Errorf("record tag %d in a format %d snapshot", tag, rs.version)
		}
		return rs.restoreChallengeState(tag, d, intern)
	case tagZoneRecord:
		if rs.version < 4 {
			return fmt.Errorf("record tag %d in a format %d snapshot", tag, rs.version)
		}
		return rs.restoreZoneRecord(d)
	case tagDelegation:
		return rs.restoreDelegation(d)
	case tagDismissal:
		return rs.restoreDismissal(d)
	case tagPad:
		return rs.restorePad(d)
	case tagZoneSerial:
		if rs.version < 5 {
			return fmt.Errorf("record tag %d in a format %d snapshot", tag, rs.version)
		}
		n := d.uvarint()
		if n > math.MaxUint32 {
			return fmt.Errorf("zone serial %d is over 32 bits", n)
		}
		rs.zs = zoneSerial{n: uint32(n), counting: true}
	default:
		return fmt.Errorf("unknown record tag %d", tag)
	}
	return d.end()
}

// decodeEntity reads an entity record.
func decodeEntity(d *dec) *record.Entity {
	ent := &record.Entity{ID: d.uvarint(), Name: d.str()}
	flags := d.byte()
	ent.Group, ent.Registered = flags&1 != 0, flags&2 != 0
	ent.Prefixes = d.prefixes()
	ent.Contact, ent.PTR = d.str(), d.str()
	d.meta(&ent.Meta)
	return ent
}

// internStr returns one shared copy of the few distinct By and Method
// values, so a million pairs do not hold a million copies of "api".
func internStr(m map[string]string, s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	if len(m) < 4096 {
		m[s] = s
	}
	return s
}

// snapReader reads records and keeps the running checksum; or, for a
// snapshot in memory (mem: all of it but the checksum, checked before),
// hands out its bytes.
type snapReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	n   int64
	buf []byte
	mem []byte
}

// ReadByte implements io.ByteReader for binary.ReadUvarint.
func (sr *snapReader) ReadByte() (byte, error) {
	if sr.mem != nil {
		if sr.n >= int64(len(sr.mem)) {
			return 0, truncated(io.EOF)
		}
		sr.n++
		return sr.mem[sr.n-1], nil
	}
	c, err := sr.r.ReadByte()
	if err != nil {
		return 0, truncated(err)
	}
	sr.n++
	sr.crc.Write([]byte{c})
	return c, nil
}

func (sr *snapReader) full(b []byte) error {
	if sr.mem != nil {
		m, err := sr.slice(len(b))
		copy(b, m)
		return err
	}
	n, err := io.ReadFull(sr.r, b)
	sr.n += int64(n)
	sr.crc.Write(b[:n])
	return truncated(err)
}

// truncated turns an end of stream inside the snapshot into a clear error.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated: the stream ends before the end record")
	}
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	return nil
}

// header reads the magic and returns the format version (1 to snapVersion).
func (sr *snapReader) header() (uint64, error) {
	magic := make([]byte, len(snapMagic))
	if err := sr.full(magic); err != nil {
		return 0, err
	}
	if string(magic) != snapMagic {
		return 0, errors.New("not a wlns snapshot (bad magic)")
	}
	v, err := binary.ReadUvarint(sr)
	if err != nil {
		return 0, err
	}
	if v < 1 || v > snapVersion {
		return 0, fmt.Errorf("snapshot format %d; this build reads 1 to %d", v, snapVersion)
	}
	return v, nil
}

// head reads a record's tag and, but for tagEnd, its payload's length.
func (sr *snapReader) head() (byte, int, error) {
	tag, err := sr.ReadByte()
	if err != nil || tag == tagEnd {
		return tag, 0, err
	}
	n, err := binary.ReadUvarint(sr)
	if err != nil {
		return 0, 0, err
	}
	if n > maxRecord {
		return 0, 0, fmt.Errorf("record of %d bytes is over the %d limit", n, maxRecord)
	}
	return tag, int(n), nil
}

// slice returns the next n bytes of a snapshot in memory, sharing them
// (capacity clipped).
func (sr *snapReader) slice(n int) ([]byte, error) {
	if int64(n) > int64(len(sr.mem))-sr.n {
		return nil, truncated(io.EOF)
	}
	end := sr.n + int64(n)
	b := sr.mem[sr.n:end:end]
	sr.n = end
	return b, nil
}

// payload reads a record's payload of n bytes into a buffer it reuses, or
// returns it where it lies in a snapshot in memory.
func (sr *snapReader) payload(n int) ([]byte, error) {
	if sr.mem != nil {
		return sr.slice(n)
	}
	if cap(sr.buf) < n {
		sr.buf = make([]byte, n)
	}
	sr.buf = sr.buf[:n]
	return sr.buf, sr.full(sr.buf)
}

// checksum reads the stored CRC after the end tag and compares it.
func (sr *snapReader) checksum() error {
	if sr.mem != nil { // checked before reading
		if sr.n != int64(len(sr.mem)) {
			return errors.New("data after the end record")
		}
		return nil
	}
	want := sr.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(sr.r, sum[:]); err != nil {
		return truncated(err)
	}
	if got := binary.BigEndian.Uint32(sum[:]); got != want {
		return fmt.Errorf("checksum mismatch: stored %08x, computed %08x", got, want)
	}
	if _, err := sr.r.ReadByte(); err != io.EOF {
		return errors.New("data after the end record")
	}
	return nil
}

// checkEntityID refuses an entity ID the index cannot hold (it keeps IDs
// in 32 bits and panics past them): a damaged or forged snapshot or backup
// must fail its restore, not crash the node, nor leave a last ID that
// makes the next entity put panic on every replica.
func checkEntityID(what string, id uint64) error {
	if id > math.MaxUint32 {
		return fmt.Errorf("%s has ID %d, past the index's 32-bit IDs", what, id)
	}
	return nil
}
