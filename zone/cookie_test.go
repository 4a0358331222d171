package zone

import (
	"encoding/hex"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

func cookieResponder(t *testing.T, secret string, now *atomic.Int64) *Responder {
	t.Helper()
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60, NS: []string{"ns1.example.net."},
		Hostmaster: "hostmaster@wl.example.org", Now: now, CookieSecret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// askCookie sends a query with the COOKIE option data cookie (hex) from
// src and returns the answer's rcode, the COOKIE it carries (hex) and
// whether the responder found the query's server cookie valid.
func askCookie(t *testing.T, r *Responder, src, cookie string) (int, string, bool) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion("4.2.0.192.relay.wl.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	req, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	resp, o := r.respond(nil, req, fixture(t).Load(), 1232, netip.MustParseAddr(src))
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		t.Fatal(err)
	}
	got := ""
	if opt := m.IsEdns0(); opt != nil {
		for _, e := range opt.Option {
			if c, ok := e.(*dns.EDNS0_COOKIE); ok {
				got = c.Cookie
			}
		}
	}
	return m.Rcode, got, o.cookie
}

func TestRespond_CookiesAcrossMirrorsAndDays(t *testing.T) {
	const client = "0102030405060708"
	var now atomic.Int64
	now.Store(1_800_000_000 - 1_800_000_000%86400 + 86400 - 60) // a minute before midnight UTC
	a := cookieResponder(t, "cluster cookie secret, 32 bytes!", &now)
	b := cookieResponder(t, "cluster cookie secret, 32 bytes!", &now) // another mirror
	other := cookieResponder(t, "another cluster's secret 32 byte", &now)

	rc, first, valid := askCookie(t, a, "192.0.2.1", client)
	if rc != dns.RcodeSuccess || len(first) != 48 || first[:16] != client || first[16:18] != "01" || valid {
		t.Fatalf("client cookie only: rcode %d cookie %q valid %v; want the client cookie and a version-1 server cookie", rc, first, valid)
	}
	if _, echo, valid := askCookie(t, b, "192.0.2.1", first); !valid || echo != first {
		t.Fatalf("another mirror with the same secret: valid %v, cookie %q", valid, echo)
	}
	if _, fresh, valid := askCookie(t, other, "192.0.2.1", first); valid || len(fresh) != 48 || fresh == first {
		t.Fatalf("a mirror with another secret: valid %v, cookie %q", valid, fresh)
	}
	if _, _, valid := askCookie(t, a, "192.0.2.99", first); valid {
		t.Fatal("a server cookie is valid from another client address")
	}
	if _, _, valid := askCookie(t, a, "192.0.2.1", "ff"+first[2:]); valid {
		t.Fatal("a server cookie is valid for another client cookie")
	}

	// Past midnight the key changes, yet yesterday's cookie still verifies
	// within the hour, and is then refreshed after half an hour.
	now.Add(120)
	if _, echo, valid := askCookie(t, a, "192.0.2.1", first); !valid || echo != first {
		t.Fatalf("after the daily key change: valid %v cookie %q", valid, echo)
	}
	now.Add(1800)
	_, renewed, valid := askCookie(t, a, "192.0.2.1", first)
	if !valid || renewed == first || renewed[:16] != client {
		t.Fatalf("a 32-minute-old cookie: valid %v, cookie %q (want valid and renewed)", valid, renewed)
	}
	now.Add(3600)
	if _, _, valid := askCookie(t, a, "192.0.2.1", first); valid {
		t.Fatal("a cookie over an hour old is still valid")
	}

	// Malformed lengths are FORMERR (RFC 7873 §5.2.2); an unknown server
	// cookie length within the limits is just not valid.
	for _, bad := range []string{"0102", hex.EncodeToString(make([]byte, 12)), hex.EncodeToString(make([]byte, 41))} {
		if rc, _, _ := askCookie(t, a, "192.0.2.1", bad); rc != dns.RcodeFormatError {
			t.Errorf("cookie of %d bytes: rcode %s, want FORMERR", len(bad)/2, dns.RcodeToString[rc])
		}
	}
	if _, got, valid := askCookie(t, a, "192.0.2.1", client+hex.EncodeToString(make([]byte, 24))); valid || len(got) != 48 {
		t.Errorf("an unknown 24-byte server cookie: valid %v, cookie %q", valid, got)
	}

	// Without a secret cookies are off: the option is ignored.
	if _, got, _ := askCookie(t, newTestResponder(t), "192.0.2.1", client); got != "" {
		t.Errorf("cookies off, yet the answer carries %q", got)
	}
}
