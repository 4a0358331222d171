package zone

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

const (
	testApex = "wl.example.org"
	created  = 1795392000 // 2026-11-23
)

// fixture builds the index the table tests answer from:
//
//	1 group umkc-mx, registered: 192.0.2.0/24, 2001:db8:1::/48
//	  pairs dave@umkc.edu, first.last@umkc.edu, domain example.com; VERP lists.example.net
//	2 lone 192.0.2.77, not registered (inside group 1's /24: longest prefix wins)
//	  pair bob@umkc.edu
//	3 lone 198.51.100.9, registered; pair x@y.org
func fixture(t testing.TB) *index.Index {
	t.Helper()
	ix := index.New()
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8:1::/48")},
		Meta:     record.Meta{Created: created}})
	tx.PutEntity(&record.Entity{ID: 2, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.77/32")},
		Meta: record.Meta{Created: created}})
	tx.PutEntity(&record.Entity{ID: 3, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.9/32")}, Meta: record.Meta{Created: created}})
	for _, p := range []struct {
		e uint64
		s string
	}{{1, "dave@umkc.edu"}, {1, "first.last@umkc.edu"}, {1, "example.com"}, {2, "bob@umkc.edu"}, {3, "x@y.org"}} {
		tx.PutPair(&record.Pair{Entity: p.e, Sender: p.s, Meta: record.Meta{Created: created}})
	}
	tx.PutVerp(&record.Verp{Entity: 1, Domain: "lists.example.net", Meta: record.Meta{Created: created}})
	tx.SetSerial(7)
	tx.SetZoneSerial(42) // the SOA shows the zone serial, not the Raft index
	tx.Commit()
	return ix
}

func newTestResponder(t testing.TB) *Responder {
	t.Helper()
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60,
		NS: []string{"ns1.example.net."}, Hostmaster: "hostmaster@wl.example.org", Now: new(atomic.Int64)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ask sends one question through Respond and unpacks the answer with miekg.
func ask(t testing.TB, r *Responder, v *index.View, name string, qtype uint16, edit ...func(*dns.Msg)) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	for _, f := range edit {
		f(q)
	}
	req, err := q.Pack()
	if err != nil {
		t.Fatalf("packing %s: %v", name, err)
	}
	return exchange(t, r, v, req, 0)
}

func exchange(t testing.TB, r *Responder, v *index.View, req []byte, udpLimit int) *dns.Msg {
	t.Helper()
	out, ok := r.Respond(make([]byte, 0, 4096), req, v, udpLimit)
	if !ok {
		t.Fatalf("request dropped")
	}
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("unpacking response: %v", err)
	}
	return m
}

// rrs renders records in zone-file syntax, one per element, for comparison.
func rrs(t testing.TB, in []dns.RR) []string {
	t.Helper()
	var out []string
	for _, rr := range in {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

func normRRs(t testing.TB, in []string) []string {
	t.Helper()
	var out []string
	for _, s := range in {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", s, err)
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

// recordPair is a short way to write a pair in tests.
type recordPair struct {
	Entity uint64
	Sender string
}

func (p recordPair) pair() *record.Pair {
	return &record.Pair{Entity: p.Entity, Sender: p.Sender, Meta: record.Meta{Created: created}}
}
