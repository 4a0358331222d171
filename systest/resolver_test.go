package systest

import (
	"testing"

	"github.com/miekg/dns"
)

// TestUnbound_ListedNamesResolveUnderStrictQNAMEMinimisation puts a real
// Unbound with strict QNAME minimisation and a cold cache in front of wlns:
// it asks each name one label at a time, and any NXDOMAIN on the way down
// would make the listed name below it unreachable (RFC 8020). rbldnsd fails
// this; wlns must not.
func TestUnbound_ListedNamesResolveUnderStrictQNAMEMinimisation(t *testing.T) {
	f := newFixture(t)
	u := startUnbound(t, unboundConfig{host: "127.0.0.1", port: freeUDPPort(t, "127.0.0.1"), stub: f.ready.DNSUDP})
	listed := []struct {
		what, name, code string
	}{
		{"relay v4", relayName(t, relayV4), codeRelay},
		{"relay v6", relayName(t, relayV6), codeRelay},
		{"sender, dotted local part unescaped", senderName(t, "first.last.umkc.edu", relayV4), codeSender},
		{"sender, dotted local part escaped", senderName(t, `first\.last.umkc.edu`, relayV4), codeSender},
		{"sender via v6 relay", senderName(t, "dave.umkc.edu", relayV6), codeSender},
		{"sender via group v6 member", senderName(t, "carol.umkc.edu", groupV6), codeSender},
		{"hashed sender", senderName(t, hashLabel("dave@umkc.edu"), relayV4), codeSender},
		{"domain-wide", senderName(t, "someone.bigcorp.example", relayV4), codeDomain},
		{"VERP", verpName(t, verpDomain, relayV4), codeVerp},
	}
	// Listed names first, on a cold cache: nothing above them is cached yet,
	// so every minimised step goes to wlns.
	for _, l := range listed {
		m := u.resolve(t, l.name, dns.TypeA)
		if m.Rcode != dns.RcodeSuccess || !hasA(m, l.code) {
			t.Errorf("%s: %s through Unbound = %s %v, want A %s", l.what, l.name, dns.RcodeToString[m.Rcode], m.Answer, l.code)
		}
	}
	unlisted := []struct{ what, name string }{
		{"unlisted relay", relayName(t, otherV4)},
		{"unlisted sender at a known relay", senderName(t, "eve.umkc.edu", relayV4)},
		{"sender at an unknown relay", senderName(t, "dave.umkc.edu", otherV4)},
		{"unlisted VERP domain", verpName(t, "other.example.net", relayV4)},
		{"RFC 5782 never-listed entry", "1.0.0.127.relay." + apex},
	}
	for _, l := range unlisted {
		m := u.resolve(t, l.name, dns.TypeA)
		if m.Rcode == dns.RcodeServerFailure || len(m.Answer) != 0 {
			t.Errorf("%s: %s through Unbound = %s %v, want NXDOMAIN or NODATA", l.what, l.name, dns.RcodeToString[m.Rcode], m.Answer)
		}
	}
	// After the negative answers are cached, listed names still resolve.
	for _, l := range listed[:3] {
		if m := u.resolve(t, l.name, dns.TypeA); !hasA(m, l.code) {
			t.Errorf("%s after negative answers: %s = %s %v", l.what, l.name, dns.RcodeToString[m.Rcode], m.Answer)
		}
	}
}

// hasA reports whether m answers A code.
func hasA(m *dns.Msg, code string) bool {
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == code {
			return true
		}
	}
	return false
}

// TestSPF_ExistsMacroAgainstWlns checks the SPF interoperability promise with
// two SPF implementations (libspf2's spfquery and Perl's Mail::SPF) that use
// the system resolver: in a private mount namespace, /etc/resolv.conf names
// an Unbound on port 53 of a spare loopback address, which serves the
// domain's SPF record and forwards the whitelist zone to wlns.
func TestSPF_ExistsMacroAgainstWlns(t *testing.T) {
	needRoot(t)
	f := newFixture(t)
	host := spareLoopback(t)
	startUnbound(t, unboundConfig{
		host: host, port: 53, stub: f.ready.DNSUDP,
		localZones: []string{"umkc.edu."},
		localData: []string{
			`umkc.edu. 300 IN TXT "v=spf1 exists:%{l}.%{o}.%{ir}.sender.` + apex + ` -all"`,
		},
	})
	spf := newSPFChecker(t, host)
	tests := []struct {
		sender, ip, want string
	}{
		{"first.last@umkc.edu", relayV4, "pass"}, // dotted local part, sent unescaped by the macro
		{"dave@umkc.edu", relayV4, "pass"},
		{"dave@umkc.edu", relayV6, "pass"},
		{"carol@umkc.edu", groupV4b, "pass"}, // verified through another member of the group
		{"eve@umkc.edu", relayV4, "fail"},    // unlisted sender
		{"dave@umkc.edu", otherV4, "fail"},   // unlisted IP
	}
	for _, tt := range tests {
		if got := spf.libspf2(tt.sender, tt.ip); got != tt.want {
			t.Errorf("spfquery %s from %s = %q, want %q", tt.sender, tt.ip, got, tt.want)
		}
		if got := spf.mailSPF(tt.sender, tt.ip); got != tt.want {
			t.Errorf("Mail::SPF %s from %s = %q, want %q", tt.sender, tt.ip, got, tt.want)
		}
	}
}
