package zone

import (
	"net/netip"
	"time"

	"github.com/wlns/wlns/record"
)

// Caps on the variable parts of a TXT text, so appendTXT fits its buffer.
const (
	maxTXTWhat  = 256
	maxTXTLabel = 128
)

// RelayCode is the A record of a listed relay in the relay zone (the
// responder writes 127.0.2.x from listing.code).
const RelayCode = "127.0.2.1"

// TestEntity is the RFC 5782 test entry the relay zone lists at 127.0.0.2
// (and the sender and VERP zones answer for).
func TestEntity() *record.Entity {
	return &record.Entity{Name: "RFC 5782 test entry", Group: true, Registered: true}
}

// RelayText is the TXT of a registered entity's relay-zone answer, the
// text the responder writes (exports of the relay zone use it, so that
// other servers answer the same).
func RelayText(e *record.Entity) string {
	return text(&listing{kind: matchRelay, entity: e, created: e.Created})
}

// text is the TXT text of a listing.
func text(l *listing) string {
	var tb [512]byte
	return string(appendTXT(tb[:0], l))
}

// appendTXT writes what a listing matched, e.g. "wlns: dave@umkc.edu
// verified via relay group umkc-mx since 2026-11-23". It never echoes an
// address the question only hashed.
func appendTXT(b []byte, l *listing) []byte {
	b = append(b, "wlns: "...)
	switch l.kind {
	case matchRelay:
		b = append(b, "registered "...)
		b = appendEntity(b, l)
		return appendSince(b, l.created)
	case matchHashed:
		b = append(b, "hashed address verified via "...)
	case matchAddress:
		b = appendCapped(b, l.what, maxTXTWhat)
		b = append(b, " verified via "...)
	case matchDomain:
		b = append(b, "domain "...)
		b = appendCapped(b, l.what, maxTXTWhat)
		b = append(b, " verified via "...)
	case matchVerp:
		b = append(b, "VERP list server for "...)
		b = appendCapped(b, l.what, maxTXTWhat)
		b = append(b, " via "...)
	}
	b = appendEntity(b, l)
	return appendSince(b, l.created)
}

// appendEntity writes how the listing's entity is shown: "relay group
// NAME", or "relay ADDRESS" for a lone relay.
func appendEntity(b []byte, l *listing) []byte {
	name, one, ok := "", netip.Prefix{}, false
	if e := l.entity; e != nil {
		name = e.Name
		if ok = len(e.Prefixes) == 1; ok {
			one = e.Prefixes[0]
		}
	} else {
		name = l.ent.Name()
		one, ok = l.ent.LonePrefix()
	}
	if name != "" {
		b = append(b, "relay group "...)
		return appendCapped(b, name, maxTXTLabel)
	}
	b = append(b, "relay "...)
	switch {
	case !ok:
		return append(b, "entity"...)
	case one.IsSingleIP():
		return one.Addr().AppendTo(b)
	}
	return one.AppendTo(b)
}

func appendCapped(b []byte, s string, n int) []byte {
	if len(s) > n {
		s = s[:n]
	}
	return append(b, s...)
}

// appendSince writes " since YYYY-MM-DD" (UTC), or nothing for time zero.
func appendSince(b []byte, unix int64) []byte {
	if unix <= 0 {
		return b
	}
	y, m, d := time.Unix(unix, 0).UTC().Date()
	b = append(b, " since "...)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(m)/10), byte('0'+int(m)%10), '-')
	return append(b, byte('0'+d/10), byte('0'+d%10))
}
