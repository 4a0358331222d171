package fsm

import (
	"github.com/wlns/wlns/record"
)

// tagZoneRecord is a zone record (since format 4): name, type, TTL, data,
// created, updated; written after the verification state, in the set's
// order (name, type, data).
const tagZoneRecord byte = tagSlidingWindow + 1

// zoneRecords writes the zone's own records.
func (sw *snapWriter) zoneRecords(z *record.ZoneRecords) {
	z.Each(func(r *record.ZoneRecord) bool {
		e := &sw.e
		e.str(r.Name)
		e.str(r.Type)
		e.uvarint(uint64(r.TTL))
		e.str(r.Data)
		e.varint(r.Created)
		e.varint(r.Updated)
		sw.record(tagZoneRecord)
		return true
	})
}

// restoreZoneRecord reads one zone record into the restore; records come
// in order, so each one is appended.
func (rs *restored) restoreZoneRecord(d *dec) error {
	r := &record.ZoneRecord{Name: d.str(), Type: d.str(), TTL: uint32(d.uvarint()), Data: d.str(), Created: d.varint(), Updated: d.varint()}
	if err := d.end(); err != nil {
		return err
	}
	rs.zone = rs.zone.With(r)
	rs.n.zoneRecords++
	return nil
}
