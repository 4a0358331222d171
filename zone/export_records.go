package zone

import (
	"bufio"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zonerec"
)

// exporter writes one exported zone; the first write error sticks.
type exporter struct {
	w      *bufio.Writer
	v      *index.View
	c      ExportConfig
	origin string
	// pairs and verps hold the records of the entities being exported.
	pairs, verps map[uint64][]index.Ref
	err          error
}

func (x *exporter) printf(format string, args ...any) {
	if x.err == nil {
		_, x.err = fmt.Fprintf(x.w, format, args...)
	}
}

// head writes the SOA, the NS records and the addresses of name servers
// inside the exported zone.
func (x *exporter) head(d *record.Delegation) {
	rname, err := packMailbox(x.c.Hostmaster)
	if err != nil {
		x.err = fmt.Errorf("hostmaster %q: %w", x.c.Hostmaster, err)
		return
	}
	serial := x.v.ZoneSerial()
	x.printf("; wlns export of %s (%s tree of the delegation of %s)\n$ORIGIN %s\n$TTL %d\n", x.origin, x.c.Tree, d.Prefix, x.origin, x.c.TTL)
	x.printf("@ %d IN SOA %s. %s %d 3600 600 604800 %d\n", x.c.NegativeTTL, d.NS[0].Name, wireToText(rname), serial, x.c.NegativeTTL)
	for _, ns := range d.NS {
		x.printf("@ IN NS %s.\n", ns.Name)
	}
	for _, ns := range d.NS {
		if !strings.HasSuffix(ns.Name+".", "."+x.origin) {
			continue
		}
		for _, a := range ns.Addrs {
			typ := "A"
			if a.Is6() {
				typ = "AAAA"
			}
			x.printf("%s. IN %s %s\n", ns.Name, typ, a)
		}
	}
}

// group collects the pairs and VERP sources of the entities of addrs.
func (x *exporter) group(addrs []netip.Addr) {
	want := map[uint64]bool{}
	for _, a := range addrs {
		if e := x.v.EntityOf(a); e != nil {
			want[e.ID] = true
		}
	}
	x.pairs, x.verps = map[uint64][]index.Ref{}, map[uint64][]index.Ref{}
	collect := func(into map[uint64][]index.Ref) func(index.Ref) bool {
		return func(r index.Ref) bool {
			if want[r.Entity()] {
				into[r.Entity()] = append(into[r.Entity()], r)
			}
			return true
		}
	}
	switch x.c.Tree {
	case qname.SenderZone:
		x.v.EachPair(collect(x.pairs))
	case qname.VerpZone:
		x.v.EachVerp(collect(x.verps))
	}
}

// addr writes the names of one relay address in the exported tree.
func (x *exporter) addr(a netip.Addr) {
	e := x.v.EntityOf(a)
	if e == nil {
		return
	}
	switch x.c.Tree {
	case qname.RelayZone:
		if e.Registered {
			l := listing{kind: matchRelay, entity: e, created: e.Created}
			x.listed(qname.Relay(a, x.c.Apex), &l)
		}
	case qname.SenderZone:
		for _, r := range x.pairs[e.ID] {
			x.pair(a, e, r)
		}
	case qname.VerpZone:
		for _, r := range x.verps[e.ID] {
			name, err := qname.Verp(r.Key(), a, x.c.Apex)
			if err == nil {
				l := hit{ref: r}.listing(matchVerp, e)
				x.listed(name, &l)
			}
		}
	}
}

// pair writes the sender names of one pair at relay address a: every form
// of an address, a wildcard under the domain of a domain-wide pair.
func (x *exporter) pair(a netip.Addr, e *record.Entity, r index.Ref) {
	if r.DomainWide() {
		rev := strings.TrimSuffix(qname.Relay(a, "x"), qname.RelayZone+".x.")
		name := "*." + r.Key() + "." + rev + qname.SenderZone + "." + strings.TrimSuffix(x.c.Apex, ".") + "."
		l := hit{ref: r}.listing(matchDomain, e)
		x.listed(name, &l)
		return
	}
	done := map[string]bool{}
	for _, f := range []qname.Form{qname.Escaped, qname.Plain, qname.Hashed, qname.HashedDomain} {
		name, err := qname.Sender(r.Key(), a, x.c.Apex, f)
		if err != nil || done[name] {
			continue
		}
		done[name] = true
		kind := matchAddress
		if f == qname.Hashed || f == qname.HashedDomain {
			kind = matchHashed
		}
		l := hit{ref: r}.listing(kind, e)
		x.listed(name, &l)
	}
}

// listed writes the A and TXT records of a listed name.
func (x *exporter) listed(name string, l *listing) {
	var tb [512]byte
	x.printf("%s IN A 127.0.2.%d\n%s IN TXT %s\n", name, l.code(), name, zonerec.QuoteTXT(appendTXT(tb[:0], l)))
}

// wireToText turns a wire-form name into presentation form.
func wireToText(w []byte) string {
	var b strings.Builder
	for i := 0; i < len(w) && w[i] != 0; i += 1 + int(w[i]) {
		for _, c := range w[i+1 : i+1+int(w[i])] {
			if c == '.' || c == '\\' || c <= ' ' || c >= 0x7f {
				b.WriteString("\\" + strconv.Itoa(int(c)/100) + strconv.Itoa(int(c)/10%10) + strconv.Itoa(int(c)%10))
				continue
			}
			b.WriteByte(c)
		}
		b.WriteByte('.')
	}
	return b.String()
}
