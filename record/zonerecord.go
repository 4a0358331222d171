package record

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ZoneRecord is one of the zone's own records, at or under the apex: the
// address of an in-zone name server, the MX and address of the
// confirmation mail host, a TXT or CAA record. It is written in
// presentation format, as in a zone file whose $ORIGIN is the apex, so the
// same data serves whatever apex a node is started with. Zone records
// never expire.
type ZoneRecord struct {
	// Name is the owner relative to the apex, lower case: "@" for the apex
	// itself, else its labels ("ns1", "_25._tcp.mx").
	Name string `json:"name"`
	// Type is the record type's mnemonic, upper case ("A", "MX").
	Type string `json:"type"`
	// TTL is in seconds; 0 means the zone's positive TTL.
	TTL uint32 `json:"ttl,omitempty"`
	// Data is the RDATA in presentation format; a name in it without a
	// final dot is relative to the apex, as in a zone file.
	Data string `json:"data"`
	// Created and Updated are Unix seconds from the writing command.
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
}

// ZoneRecordTypes are the record types a zone record may have. SOA and NS
// at the apex come from the server's configuration; CNAME, DNAME and NS
// below the apex would change how other names resolve and are left out.
var ZoneRecordTypes = []string{"A", "AAAA", "CAA", "MX", "SRV", "TLSA", "TXT"}

// MaxZoneRecords bounds how many zone records a zone holds: they are
// compiled into every node's answer table whenever they change.
const MaxZoneRecords = 1000

// NormalizeZoneName checks a zone record's owner name, relative to the apex,
// and returns it in lower case: "@" (or "") for the apex, else dot-separated
// labels of letters, digits, '-' and '_'. A name at or under the relay,
// sender or VERP zone is refused: those names answer from the whitelist.
func NormalizeZoneName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if name == "" || name == "@" {
		return "@", nil
	}
	if len(name) > 200 {
		return "", fmt.Errorf("zone record name %q is longer than 200 octets", s)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return "", fmt.Errorf("zone record name %q: want labels of 1 to 63 letters, digits, '-' or '_', relative to the apex", s)
		}
	}
	if last := labels[len(labels)-1]; IsTree(last) {
		return "", fmt.Errorf("zone record name %q is in the %s zone, which answers from the whitelist", s, last)
	}
	return name, nil
}

// NormalizeZoneType checks a record type and returns it in upper case.
func NormalizeZoneType(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if !slices.Contains(ZoneRecordTypes, t) {
		return "", fmt.Errorf("zone record type %q: want one of %s", s, strings.Join(ZoneRecordTypes, ", "))
	}
	return t, nil
}

// CompareZoneRecords orders zone records by name, type and data.
func CompareZoneRecords(a, b *ZoneRecord) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Type, b.Type), strings.Compare(a.Data, b.Data))
}

// ZoneRecords is an immutable set of zone records, sorted by name, type and
// data. Its methods accept a nil set (empty). Writers build changed copies.
type ZoneRecords struct {
	list []*ZoneRecord
}

// Len returns the number of records.
func (z *ZoneRecords) Len() int {
	if z == nil {
		return 0
	}
	return len(z.list)
}

// Each calls fn for each record in order until it returns false. The
// records must not be changed.
func (z *ZoneRecords) Each(fn func(*ZoneRecord) bool) {
	if z == nil {
		return
	}
	for _, r := range z.list {
		if !fn(r) {
			return
		}
	}
}

// Find returns the record with r's name, type and data, or nil.
func (z *ZoneRecords) Find(r *ZoneRecord) *ZoneRecord {
	if z == nil {
		return nil
	}
	if i, ok := slices.BinarySearchFunc(z.list, r, CompareZoneRecords); ok {
		return z.list[i]
	}
	return nil
}

// With returns a copy of z with r added or replacing the record of the
// same name, type and data.
func (z *ZoneRecords) With(r *ZoneRecord) *ZoneRecords {
	var list []*ZoneRecord
	if z != nil {
		list = z.list
	}
	i, ok := slices.BinarySearchFunc(list, r, CompareZoneRecords)
	out := slices.Clone(list)
	if ok {
		out[i] = r
	} else {
		out = slices.Insert(out, i, r)
	}
	return &ZoneRecords{list: out}
}

// Without returns a copy of z without the records drop reports.
func (z *ZoneRecords) Without(drop func(*ZoneRecord) bool) *ZoneRecords {
	if z == nil {
		return nil
	}
	return &ZoneRecords{list: slices.DeleteFunc(slices.Clone(z.list), drop)}
}

// Map returns a copy of z with every record replaced by what fn returns for
// it (fn must keep name, type and data).
func (z *ZoneRecords) Map(fn func(*ZoneRecord) *ZoneRecord) *ZoneRecords {
	if z == nil {
		return nil
	}
	out := make([]*ZoneRecord, len(z.list))
	for i, r := range z.list {
		out[i] = fn(r)
	}
	return &ZoneRecords{list: out}
}
