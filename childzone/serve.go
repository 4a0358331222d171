package childzone

import (
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ServeDNS answers queries for the cut zones (REFUSED outside them,
// SERVFAIL for a zone not transferred yet or expired) and takes NOTIFYs
// from the primaries.
func (n *Node) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := n.reply(w, req)
	if opt := req.IsEdns0(); opt != nil {
		size := max(opt.UDPSize(), dns.MinMsgSize)
		m.SetEdns0(min(size, 1232), false)
		if isUDP(w) {
			m.Truncate(int(min(size, 1232)))
		}
	} else if isUDP(w) {
		m.Truncate(dns.MinMsgSize)
	}
	n.m.queries.WithLabelValues(dns.RcodeToString[m.Rcode]).Inc()
	_ = w.WriteMsg(m)
}

func (n *Node) reply(w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = false
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s := n.slotOf(name)
	switch {
	case req.Opcode == dns.OpcodeNotify:
		n.notify(w, req, m, s, name)
		return m
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m
	case s == nil || (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) ||
		q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		m.Rcode = dns.RcodeRefused
		return m
	}
	d := s.cur.Load()
	if d == nil || n.expired(s) {
		m.Rcode = dns.RcodeServerFailure
		return m
	}
	n.answer(m, s, d, name, q.Qtype)
	return m
}

// notify takes a NOTIFY for a zone served from a primary's address (with
// the key, when it is signed) and wakes that zone's refresh.
func (n *Node) notify(w dns.ResponseWriter, req, m *dns.Msg, s *slot, name string) {
	m.Authoritative = true
	addr, err := netip.ParseAddrPort(w.RemoteAddr().String())
	switch {
	case s == nil || s.origin != name:
		m.Rcode = dns.RcodeNotAuth
	case err != nil || !n.fromPrimary(addr.Addr()):
		m.Rcode = dns.RcodeRefused
	case req.IsTsig() != nil && w.TsigStatus() != nil:
		m.Rcode = dns.RcodeNotAuth
	}
	if m.Rcode != dns.RcodeSuccess {
		n.m.notifies.WithLabelValues("refused").Inc()
		n.log.Info("NOTIFY refused", "client", w.RemoteAddr().String(), "zone", name, "rcode", dns.RcodeToString[m.Rcode])
		return
	}
	n.m.notifies.WithLabelValues("accepted").Inc()
	select {
	case s.poke <- struct{}{}:
	default:
	}
	if t := req.IsTsig(); t != nil {
		m.SetTsig(t.Hdr.Name, t.Algorithm, t.Fudge, time.Now().Unix())
	}
}

func isUDP(w dns.ResponseWriter) bool { return w.RemoteAddr().Network() == "udp" }
