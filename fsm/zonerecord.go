package fsm

import (
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func init() {
	// Its RDATA is checked before the log by the store (checkZoneRecords):
	// the DNS parser is not the state machine's.
	registerKind(command.ZoneRecordPut, kind{apply: rejecting((*applier).zoneRecordPut)})
	registerKind(command.ZoneRecordDelete, kind{apply: rejecting((*applier).zoneRecordDelete)})
}

// zoneRecordPut adds a zone record or refreshes the one with the same name,
// type and data; every record of its RRset takes its TTL (RFC 2181 §5.2).
// Its RDATA was checked before the log (checkZoneRecords); here only the rules
// that need no DNS parser apply, so every build decides the same.
func (a *applier) zoneRecordPut(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.ZoneRecordBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	r, rej := zoneRecordFromBody(&b)
	if rej != nil {
		return command.Result{}, rej
	}
	if r.Data == "" {
		return command.Result{}, command.Reject(command.Invalid, "a zone record needs data")
	}
	cur := a.view().ZoneRecords()
	old := cur.Find(r)
	if old == nil && cur.Len() >= record.MaxZoneRecords {
		return command.Result{}, command.Reject(command.Conflict, "the zone holds %d records, the most it may", cur.Len())
	}
	r.Created, r.Updated = e.Time, e.Time
	if old != nil {
		r.Created = old.Created
	}
	next := cur.With(r).Map(func(o *record.ZoneRecord) *record.ZoneRecord {
		if o == r || o.Name != r.Name || o.Type != r.Type || o.TTL == r.TTL {
			return o
		}
		c := *o
		c.TTL, c.Updated = r.TTL, e.Time
		return &c
	})
	a.txn.SetZoneRecords(next)
	return command.Result{Created: old == nil}, nil
}

// zoneRecordDelete deletes the records of a name, of one type at it, or
// the one record with the given data.
func (a *applier) zoneRecordDelete(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.ZoneRecordBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	if b.Type == "" && b.Data != "" {
		return command.Result{}, command.Reject(command.Invalid, "deleting a zone record by its data needs its type")
	}
	m, rej := zoneRecordFromBody(&b)
	if rej != nil {
		return command.Result{}, rej
	}
	match := func(r *record.ZoneRecord) bool {
		return r.Name == m.Name && (m.Type == "" || r.Type == m.Type) && (m.Data == "" || r.Data == m.Data)
	}
	cur := a.view().ZoneRecords()
	next := cur.Without(match)
	if next.Len() == cur.Len() {
		return command.Result{}, command.Reject(command.NotFound, "no zone record matches %s %s %s", m.Name, m.Type, m.Data)
	}
	a.txn.SetZoneRecords(next)
	return command.Result{}, nil
}

// zoneRecordFromBody checks the name (and the type, when given) of a body.
func zoneRecordFromBody(b *command.ZoneRecordBody) (*record.ZoneRecord, *command.Rejection) {
	name, err := record.NormalizeZoneName(b.Name)
	if err != nil {
		return nil, command.Reject(command.Invalid, "%v", err)
	}
	r := &record.ZoneRecord{Name: name, TTL: b.TTL, Data: strings.TrimSpace(b.Data)}
	if b.Type != "" {
		if r.Type, err = record.NormalizeZoneType(b.Type); err != nil {
			return nil, command.Reject(command.Invalid, "%v", err)
		}
	}
	return r, nil
}
