package command

// The zone's own records (envelope version 5): names at and under the
// apex that the zone needs, such as in-zone name server addresses and the
// confirmation mail host's MX.
const (
	// ZoneRecordPut adds a zone record, or refreshes the one with the same
	// name, type and data; its TTL becomes the TTL of its whole RRset.
	ZoneRecordPut Type = "zone.put"
	// ZoneRecordDelete deletes the zone records that match its body: a
	// name, optionally narrowed to a type, then to one record's data.
	ZoneRecordDelete Type = "zone.delete"
)

// ZoneRecordBody is the body of ZoneRecordPut and ZoneRecordDelete.
// Fields are as in record.ZoneRecord: Name relative to the apex ("@" for
// the apex), Type a mnemonic, Data the RDATA in presentation format.
type ZoneRecordBody struct {
	// Name is the owner relative to the apex.
	Name string `json:"name"`
	// Type is the record type; empty in a delete: every type.
	Type string `json:"type,omitempty"`
	// TTL in seconds; 0 means the zone's positive TTL (put only).
	TTL uint32 `json:"ttl,omitempty"`
	// Data is the RDATA; empty in a delete: every record of the type.
	Data string `json:"data,omitempty"`
}

func init() {
	register(Kind{Type: ZoneRecordPut, Since: 5, Body: bodyOf[ZoneRecordBody]()})
	register(Kind{Type: ZoneRecordDelete, Since: 5, Body: bodyOf[ZoneRecordBody]()})
}
