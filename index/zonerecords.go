package index

import "github.com/wlns/wlns/record"

// ZoneRecords returns the zone's own records (names at and under the
// apex), possibly nil. The set never changes; a View with other zone
// records holds another set, so a reader can tell by the pointer whether
// they changed.
func (v *View) ZoneRecords() *record.ZoneRecords { return v.zoneRecords }

// SetZoneRecords replaces the zone's own records in the View being built.
func (t *Txn) SetZoneRecords(z *record.ZoneRecords) { t.v.zoneRecords = z }
