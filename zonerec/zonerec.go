// Package zonerec turns the zone's own records (record.ZoneRecord: name
// server addresses, the confirmation mail host's MX, TXT, CAA ...) into DNS
// resource records. The store checks a record with Check before proposing
// it, so nothing the DNS server cannot pack enters the log; the DNS server
// and zone transfers build their answers with RR.
//
// It parses presentation format with miekg/dns and does no I/O. It does
// not decide which records exist (the state machine does) nor answer
// queries (zone does).
package zonerec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

// checkApex is the origin a record is checked under: any apex gives the
// same verdict, since names are relative, and names under it are made
// relative again.
const checkApex = "zonerec-origin.invalid."

// MaxTTL is the largest TTL a zone record may have (RFC 2181 §8 allows
// 2^31-1; a week is plenty for a zone whose data changes by the minute).
const MaxTTL = 604800

// Normalize checks r's name, type, TTL and data and returns a copy with
// name and type in canonical form and the data as miekg/dns prints it
// (so that "10 mx" and "10  mx" are one record).
func Normalize(r record.ZoneRecord) (record.ZoneRecord, error) {
	name, err := record.NormalizeZoneName(r.Name)
	if err != nil {
		return r, err
	}
	typ, err := record.NormalizeZoneType(r.Type)
	if err != nil {
		return r, err
	}
	if r.TTL > MaxTTL {
		return r, fmt.Errorf("zone record TTL %d: at most %d", r.TTL, MaxTTL)
	}
	data := strings.TrimSpace(r.Data)
	if data == "" || strings.ContainsAny(data, "\n\r;()") {
		return r, fmt.Errorf("zone record data %q: want the RDATA of one %s record on one line, no comments", r.Data, typ)
	}
	if typ == "TXT" && !strings.HasPrefix(data, `"`) {
		data = QuoteTXT([]byte(data))
	}
	out := record.ZoneRecord{Name: name, Type: typ, TTL: r.TTL, Data: data, Created: r.Created, Updated: r.Updated}
	rr, err := RR(&out, checkApex, 1)
	if err != nil {
		return r, err
	}
	out.Data = rdataText(rr)
	return out, nil
}

// relative turns a name under checkApex back into the relative form it was
// given in ("@" for the apex itself); other names stay absolute.
func relative(name string) string {
	switch {
	case name == checkApex:
		return "@"
	case strings.HasSuffix(name, "."+checkApex):
		return strings.TrimSuffix(name, "."+checkApex)
	}
	return name
}

// Check reports whether r is a record the DNS server can serve, as
// Normalize does.
func Check(r *record.ZoneRecord) error {
	_, err := Normalize(*r)
	return err
}

// RR builds r as a resource record under apex (presentation format, with or
// without the final dot). ttl is the zone's positive TTL, used when r has
// none. Relative names in the data are completed with the apex.
func RR(r *record.ZoneRecord, apex string, ttl uint32) (dns.RR, error) {
	origin := dns.Fqdn(apex)
	owner := origin
	if r.Name != "@" {
		owner = r.Name + "." + origin
	}
	if r.TTL != 0 {
		ttl = r.TTL
	}
	line := fmt.Sprintf("%s %d IN %s %s", owner, ttl, r.Type, r.Data)
	zp := dns.NewZoneParser(strings.NewReader(line), origin, "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("zone record %s %s %q: %w", r.Name, r.Type, r.Data, err)
	}
	if !ok || rr == nil {
		return nil, errors.New("zone record: no record parsed")
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("zone record %s %s %q: more than one record", r.Name, r.Type, r.Data)
	}
	if dns.TypeToString[rr.Header().Rrtype] != r.Type {
		return nil, fmt.Errorf("zone record %s %s %q: parsed as %s", r.Name, r.Type, r.Data, dns.TypeToString[rr.Header().Rrtype])
	}
	buf := make([]byte, dns.MaxMsgSize)
	if _, err := dns.PackRR(rr, buf, 0, nil, false); err != nil {
		return nil, fmt.Errorf("zone record %s %s %q: %w", r.Name, r.Type, r.Data, err)
	}
	return rr, nil
}

// rdataText is the RDATA of rr, parsed under checkApex, in presentation
// format as miekg/dns prints it (the header cut off), with the names in it
// relative again.
func rdataText(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.MX:
		rr.Mx = relative(rr.Mx)
	case *dns.SRV:
		rr.Target = relative(rr.Target)
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// QuoteTXT writes text as the character-strings of a TXT record in
// presentation format: quoted runs of at most 255 octets, '"' and '\\'
// escaped, control and non-ASCII octets as \DDD. Zone files write TXT
// data so, and Normalize quotes unquoted zone record data so (an SPF
// record given as v=spf1 mx -all stays one text, not one string per word).
func QuoteTXT(text []byte) string {
	var b strings.Builder
	for len(text) > 0 {
		n := min(len(text), 255)
		b.WriteByte('"')
		for _, c := range text[:n] {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < ' ' || c >= 0x7f:
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		text = text[n:]
		if len(text) > 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}
