package console

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// localDNS serves zone (owner → records) on 127.0.0.1 and counts the
// queries; the console's resolver points there, so no query leaves the
// machine.
func localDNS(t *testing.T, zone map[string][]string) (*net.Resolver, *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var queries atomic.Int64
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		rrs, ok := zone[strings.ToLower(q.Question[0].Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, s := range rrs {
			rr, err := dns.NewRR(q.Question[0].Name + " 60 IN " + s)
			if err != nil {
				t.Error(err)
				continue
			}
			if rr.Header().Rrtype == q.Question[0].Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return NewResolver(pc.LocalAddr().String()), &queries
}

func TestRegisterRelay_ForwardConfirmedReverseDNS(t *testing.T) {
	r := newRig(t)
	res, queries := localDNS(t, map[string][]string{
		"25.2.0.192.in-addr.arpa.": {"PTR mx25.a.example."},
		"mx25.a.example.":          {"A 192.0.2.25"},
		"26.2.0.192.in-addr.arpa.": {"PTR mx26.a.example."},
		"mx26.a.example.":          {"A 192.0.2.99"},
		"5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.": {"PTR mx6.far.example."},
		"mx6.far.example.": {"AAAA 2001:db8::25"},
	})
	r.c.cfg.Resolver = res
	cookie, csrf := r.postmaster("pm-a", "192.0.2.0/24")
	if w := r.do("GET", "/console/relays/new", cookie, nil); w.Code != 200 || !strings.Contains(w.Body.String(), "inside your prefixes: 192.0.2.0/24") {
		t.Fatalf("the registration form: %d\n%s", w.Code, w.Body)
	}
	if w := r.post("/console/relays", cookie, csrf, "ip", "192.0.2.25", "contact", "pm@a.example"); w.Code != http.StatusSeeOther {
		t.Fatalf("registering a relay whose PTR is confirmed: %d\n%s", w.Code, w.Body)
	}
	e := r.st.Index().Load().EntityOf(netip.MustParseAddr("192.0.2.25"))
	if e == nil || !e.Registered || e.PTR != "mx25.a.example" || e.Contact != "pm@a.example" || e.Group {
		t.Fatalf("the relay registered in the console: %+v", e)
	}

	before := queries.Load()
	for _, c := range []struct {
		name, ip, contact string
		code              int
		want              string
	}{
		{"outside the prefixes", "198.51.100.77", "pm@a.example", http.StatusForbidden, "198.51.100.77/32 lies outside your prefixes (192.0.2.0/24)"},
		{"bad address", "192.0.2.x", "pm@a.example", http.StatusBadRequest, "192.0.2.x"},
		{"bad contact", "192.0.2.26", "nobody", http.StatusBadRequest, "Invalid contact"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, r.post("/console/relays", cookie, csrf, "ip", c.ip, "contact", c.contact), c.code, c.want)
		})
	}
	if q := queries.Load() - before; q != 0 {
		t.Errorf("forms refused before the check sent %d DNS queries", q)
	}
	for _, c := range []struct{ name, ip, want string }{
		{"forward does not confirm", "192.0.2.26", "is mx26.a.example, but that name does not resolve back to 192.0.2.26"},
		{"no PTR", "192.0.2.27", "192.0.2.27 has no reverse DNS name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := r.post("/console/relays", cookie, csrf, "ip", c.ip, "contact", "pm@a.example")
			if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), c.want) || !strings.Contains(w.Body.String(), "Not registered") {
				t.Errorf("%d, want 422 saying %q:\n%s", w.Code, c.want, w.Body)
			}
			if e := r.st.Index().Load().EntityOf(netip.MustParseAddr(c.ip)); e != nil {
				t.Errorf("registered without a confirmed PTR: %+v", e)
			}
		})
	}

	admCookie, admCSRF := r.signIn(adminSecret)
	if w := r.post("/console/relays", admCookie, admCSRF, "ip", "2001:db8::25", "contact", "ops@far.example"); w.Code != http.StatusSeeOther {
		t.Fatalf("an admin registering an IPv6 relay: %d\n%s", w.Code, w.Body)
	}
	if e := r.st.Index().Load().EntityOf(netip.MustParseAddr("2001:db8::25")); e == nil || e.PTR != "mx6.far.example" {
		t.Errorf("the IPv6 relay: %+v", e)
	}
	if w := r.post("/console/relays", admCookie, admCSRF, "ip", "198.51.100.1", "contact", "ops@far.example"); w.Code != http.StatusConflict ||
		!strings.Contains(w.Body.String(), "register the group instead") {
		t.Errorf("registering an address of group B: %d\n%s", w.Code, w.Body)
	}
}
