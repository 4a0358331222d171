package zone

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// Cut zones: the transfer port also offers, for every delegation, the zone
// below each of its three cuts (2.0.192.relay.<apex> …) as Export writes
// it, so a postmaster's own server — `wlns serve --serve-only` or any
// standard secondary — follows its prefix by AXFR, NOTIFY and TSIG instead
// of cron'd exports. A TSIG key may be scoped to prefixes (XFRConfig.Scopes):
// it then transfers only the cut zones of delegations inside them, never
// the whole trees. A cut zone's serial is the zone serial, as for the other
// zones; IXFR of a cut zone is answered with the whole zone (RFC 1995 §4
// allows it), or the SOA alone when the client is current.

// CutNotify names a postmaster's server told of each new serial of the cut
// zones of the delegations inside Prefix.
type CutNotify struct {
	Prefix netip.Prefix
	Target string // host:port
}

// cutZones caches the cut zones written out at one serial.
type cutZones struct {
	mu     sync.Mutex
	serial uint32
	zones  map[string][]dns.RR // by origin: SOA first, then the rest
}

// cutOf finds the delegation whose cut in some tree is origin.
func (x *XFR) cutOf(v *index.View, origin string) (*record.Delegation, string) {
	for _, d := range v.Delegations() {
		for _, tree := range xfrZones {
			if cut, err := qname.Cut(d.Prefix, tree, x.apex); err == nil && strings.EqualFold(cut, origin) {
				return d, tree
			}
		}
	}
	return nil, ""
}

// inScope reports whether the request's TSIG key may transfer origin: any
// zone for an unscoped key (or no keys), only the cut zones of delegations
// inside its prefixes for a scoped one.
func (x *XFR) inScope(req *dns.Msg, d *record.Delegation) bool {
	t := req.IsTsig()
	if t == nil {
		return true
	}
	scope, ok := x.cfg.Scopes[strings.ToLower(t.Hdr.Name)]
	if !ok {
		return true
	}
	if d == nil {
		return false
	}
	for _, p := range scope {
		if p.Bits() <= d.Prefix.Bits() && p.Contains(d.Prefix.Addr()) {
			return true
		}
	}
	return false
}

// cutZone writes out the cut zone of d in tree at v's serial, or returns
// the copy made at that serial.
func (x *XFR) cutZone(v *index.View, d *record.Delegation, tree, origin string) ([]dns.RR, error) {
	serial := max(v.ZoneSerial(), 1)
	c := &x.cuts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.serial != serial {
		c.serial, c.zones = serial, map[string][]dns.RR{}
	}
	if rrs, ok := c.zones[origin]; ok {
		return rrs, nil
	}
	var buf bytes.Buffer
	rname, _, _ := dns.UnpackDomainName(x.r.soaNames, len(x.r.ns[0]))
	err := Export(&buf, v, d, ExportConfig{Apex: x.apex, Tree: tree, Hostmaster: rname, TTL: x.r.ttl, NegativeTTL: x.r.negTTL})
	if err != nil {
		return nil, fmt.Errorf("writing out %s: %w", origin, err)
	}
	var rrs []dns.RR
	zp := dns.NewZoneParser(&buf, origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("reading back %s: %w", origin, err)
	}
	c.zones[origin] = rrs
	return rrs, nil
}

// serveCut answers a SOA query, AXFR or IXFR for a cut zone.
func (x *XFR) serveCut(w dns.ResponseWriter, req *dns.Msg, v *index.View, d *record.Delegation, tree string) {
	q := req.Question[0]
	origin := strings.ToLower(q.Name)
	rrs, err := x.cutZone(v, d, tree, origin)
	if err != nil {
		x.m.refused.WithLabelValues("too_large").Inc()
		x.log.Warn("cut zone not offered for transfer", "zone", origin, "err", err)
		x.reply(w, req, dns.RcodeRefused)
		return
	}
	soa := rrs[0]
	var from uint32
	for _, rr := range req.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			from = s.Serial
		}
	}
	switch {
	case q.Qtype == dns.TypeSOA || (q.Qtype == dns.TypeIXFR && isUDP(w)):
		m := x.msg(req)
		m.Answer = []dns.RR{soa}
		_ = w.WriteMsg(m)
	case q.Qtype == dns.TypeIXFR && from == soa.(*dns.SOA).Serial:
		x.m.transfers.WithLabelValues("ixfr_current").Inc()
		x.send(w, req, func(emit func(...dns.RR)) { emit(soa) })
	default:
		kind := "axfr"
		if q.Qtype == dns.TypeIXFR {
			kind = "ixfr_full"
		}
		x.m.transfers.WithLabelValues(kind).Inc()
		x.send(w, req, func(emit func(...dns.RR)) { emit(rrs...); emit(soa) })
	}
}

func isUDP(w dns.ResponseWriter) bool {
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	return udp
}
