package zone

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

// decodeSecret checks a base64 TSIG secret.
func decodeSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("secret is not base64: %w", err)
	}
	if len(b) < 16 {
		return nil, fmt.Errorf("secret of %d bytes: at least 16", len(b))
	}
	return b, nil
}

// listen binds UDP and TCP on the transfer address.
func (x *XFR) listen() error {
	tcp, err := net.Listen("tcp", x.cfg.Listen)
	if err != nil {
		return fmt.Errorf("zone transfer: %w", err)
	}
	x.addr = netip.MustParseAddrPort(tcp.Addr().String())
	udp, err := net.ListenPacket("udp", x.addr.String())
	if err != nil {
		tcp.Close()
		return fmt.Errorf("zone transfer: %w", err)
	}
	var keys map[string]string
	if len(x.cfg.Keys) > 0 {
		keys = x.cfg.Keys
	}
	for _, s := range []*dns.Server{{Listener: tcp, Net: "tcp"}, {PacketConn: udp, Net: "udp"}} {
		s.Handler = x
		s.TsigSecret = keys
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		x.servers = append(x.servers, s)
		x.wg.Add(1)
		go func() {
			defer x.wg.Done()
			if err := s.ActivateAndServe(); err != nil {
				x.log.Error("zone transfer listener stopped", "err", err)
			}
		}()
		<-started
	}
	x.log.Info("zone transfer listening", "addr", x.addr, "tsig", len(keys) > 0, "notify", len(x.cfg.Notify))
	return nil
}

// ServeDNS answers SOA queries, AXFR and IXFR for the transferable zones,
// to allowed addresses with a valid TSIG (when keys are configured).
func (x *XFR) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if why := x.refuse(w, req); why != "" {
		x.m.refused.WithLabelValues(why).Inc()
		x.log.Info("zone transfer request refused", "client", w.RemoteAddr().String(), "reason", why)
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeRefused)
		if why == "tsig" {
			m.Rcode = dns.RcodeNotAuth
		}
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	origin := strings.ToLower(q.Name)
	sub, ok := x.zoneOf(origin)
	if !ok {
		v := x.ix.Load()
		if d, tree := x.cutOf(v, origin); d != nil {
			x.serveCut(w, req, v, d, tree)
		} else { // ended since refuse looked
			x.reply(w, req, dns.RcodeRefused)
		}
		return
	}
	x.mu.RLock()
	cur, journal := x.cur, x.journal
	x.mu.RUnlock()
	subs := []string{sub}
	if sub == "" {
		subs = xfrParts()
	}
	for _, s := range subs {
		if err := cur.errs[s]; err != nil {
			x.m.refused.WithLabelValues("too_large").Inc()
			x.reply(w, req, dns.RcodeRefused)
			return
		}
	}
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	switch {
	case q.Qtype == dns.TypeSOA, q.Qtype == dns.TypeIXFR && udp:
		m := x.msg(req)
		m.Answer = []dns.RR{x.soa(origin, cur.serial)}
		_ = w.WriteMsg(m)
	case q.Qtype == dns.TypeAXFR:
		x.m.transfers.WithLabelValues("axfr").Inc()
		x.send(w, req, x.full(origin, cur, subs))
	default: // IXFR over TCP
		x.ixfr(w, req, origin, cur, journal, subs)
	}
}

// refuse says why a request is refused, or "" to answer it.
func (x *XFR) refuse(w dns.ResponseWriter, req *dns.Msg) string {
	addr, err := netip.ParseAddrPort(w.RemoteAddr().String())
	if err != nil || !x.allowed(addr.Addr().Unmap()) {
		return "acl"
	}
	if len(x.cfg.Keys) > 0 {
		t := req.IsTsig()
		if t == nil || w.TsigStatus() != nil || !strings.EqualFold(t.Algorithm, dns.HmacSHA256) {
			return "tsig"
		}
	}
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		return "opcode"
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET {
		return "zone"
	}
	if why := x.refuseZone(req, strings.ToLower(q.Name)); why != "" {
		return why
	}
	switch q.Qtype {
	case dns.TypeSOA, dns.TypeAXFR, dns.TypeIXFR:
	default:
		return "type"
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp && q.Qtype == dns.TypeAXFR {
		return "udp"
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.cur == nil {
		return "starting"
	}
	return ""
}

// refuseZone says why origin is not transferred to this request: not a
// zone offered nor a delegation's cut ("zone"), or outside the key's scope
// ("scope").
func (x *XFR) refuseZone(req *dns.Msg, origin string) string {
	if _, ok := x.zoneOf(origin); ok {
		if !x.inScope(req, nil) {
			return "scope"
		}
		return ""
	}
	d, _ := x.cutOf(x.ix.Load(), origin)
	switch {
	case d == nil:
		return "zone"
	case !x.inScope(req, d):
		return "scope"
	}
	return ""
}

func (x *XFR) allowed(a netip.Addr) bool {
	for _, p := range x.cfg.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// zoneOf maps a zone name to its first label below the apex ("" for the
// apex itself).
func (x *XFR) zoneOf(origin string) (string, bool) {
	if origin == x.apex {
		return "", x.offered[""]
	}
	for _, s := range record.Trees() {
		if origin == s+"."+x.apex {
			return s, x.offered[s]
		}
	}
	return "", false
}

// msg starts an authoritative reply, signed when the request was.
func (x *XFR) msg(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if t := req.IsTsig(); t != nil {
		m.SetTsig(t.Hdr.Name, t.Algorithm, t.Fudge, time.Now().Unix())
	}
	return m
}

func (x *XFR) reply(w dns.ResponseWriter, req *dns.Msg, rcode int) {
	m := x.msg(req)
	m.Rcode = rcode
	_ = w.WriteMsg(m)
}

// soa is the SOA of a transferable zone at serial.
func (x *XFR) soa(origin string, serial uint32) dns.RR {
	mname, off, _ := dns.UnpackDomainName(x.r.soaNames, 0)
	rname, _, _ := dns.UnpackDomainName(x.r.soaNames, off)
	return &dns.SOA{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: x.r.ttl},
		Ns: mname, Mbox: rname, Serial: serial, Refresh: 3600, Retry: 600, Expire: 604800, Minttl: x.r.negTTL}
}

// ns is the zone's NS set.
func (x *XFR) ns(origin string) []dns.RR {
	var out []dns.RR
	for _, w := range x.r.ns {
		out = append(out, &dns.NS{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: x.r.ttl}, Ns: dnsName(w)})
	}
	return out
}

// rrs appends the A and TXT records of recs.
func (x *XFR) rrs(out []dns.RR, recs []xfrRec) []dns.RR {
	for _, rec := range recs {
		h := dns.RR_Header{Name: rec.name, Class: dns.ClassINET, Ttl: x.r.ttl}
		a, t := h, h
		a.Rrtype, t.Rrtype = dns.TypeA, dns.TypeTXT
		out = append(out, &dns.A{Hdr: a, A: net.IPv4(127, 0, 2, rec.code).To4()}, &dns.TXT{Hdr: t, Txt: splitTXT(rec.txt)})
	}
	return out
}

// splitTXT cuts a text into character-strings of at most 255 bytes, as the
// responder does; backslashes are escaped, as miekg reads escapes in TXT
// strings.
func splitTXT(s string) []string {
	var out []string
	for len(s) > 0 {
		n := min(len(s), 255)
		out = append(out, escapeTXT(s[:n]))
		s = s[n:]
	}
	return out
}

func escapeTXT(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}
