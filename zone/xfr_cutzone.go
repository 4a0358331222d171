package zone

import (
	"context"
	"net"
	"net/netip"
	"strings"

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
// zones, but only moved when the cut's records change (xfr_cutcache.go);
// IXFR of a cut zone is answered with the whole zone (RFC 1995 §4 allows
// it), or the SOA alone when the client is current.

// CutNotify names a postmaster's server told of each new serial of the cut
// zones of the delegations inside Prefix.
type CutNotify struct {
	Prefix netip.Prefix
	Target string // host:port
}

// cutOf finds the delegation whose cut in some tree is origin.
func (x *XFR) cutOf(v *index.View, origin string) (*record.Delegation, string) {
	for _, d := range v.Delegations() {
		for _, tree := range record.Trees() {
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

// serveCut answers a SOA query, AXFR or IXFR for a cut zone.
func (x *XFR) serveCut(w dns.ResponseWriter, req *dns.Msg, v *index.View, d *record.Delegation, tree string) {
	q := req.Question[0]
	origin := strings.ToLower(q.Name)
	e, err := x.cuts.get(context.Background(), x, v, d, tree, origin, false)
	if err != nil {
		x.m.refused.WithLabelValues("too_large").Inc()
		x.log.Warn("cut zone not offered for transfer", "zone", origin, "err", err)
		x.reply(w, req, dns.RcodeRefused)
		return
	}
	rrs, soa := e.rrs, e.rrs[0]
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
