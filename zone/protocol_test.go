package zone

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"
)

func TestRespond_CasePreservedAndIDEchoed(t *testing.T) {
	r, v := newTestResponder(t), fixture(t).Load()
	name := "DaVe.UmKc.EDU.4.2.0.192.SeNdEr.WL.example.ORG."
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	q.Id = 0xbeef
	q.RecursionDesired = true
	q.CheckingDisabled = true
	q.SetEdns0(1232, true)
	req, _ := q.Pack()
	m := exchange(t, r, v, req, 512)
	if m.IsEdns0() == nil || !m.IsEdns0().Do() {
		t.Errorf("DO bit not echoed")
	}
	if m.Id != 0xbeef || !m.RecursionDesired || !m.CheckingDisabled || m.RecursionAvailable || m.AuthenticatedData || !m.Authoritative {
		t.Errorf("header: id %x rd %v ra %v aa %v", m.Id, m.RecursionDesired, m.RecursionAvailable, m.Authoritative)
	}
	if m.Question[0].Name != name {
		t.Errorf("question %q, want %q", m.Question[0].Name, name)
	}
	if len(m.Answer) != 1 || m.Answer[0].Header().Name != name || m.Answer[0].(*dns.A).A.String() != "127.0.2.2" {
		t.Errorf("answer %v", m.Answer)
	}
}

func TestRespond_EDNS(t *testing.T) {
	r, v := newTestResponder(t), fixture(t).Load()
	name := "dave.umkc.edu.4.2.0.192.sender.wl.example.org."
	tests := []struct {
		desc      string
		edit      func(*dns.Msg)
		wantRcode int
		wantOPT   bool
	}{
		{"no EDNS, no OPT", func(*dns.Msg) {}, dns.RcodeSuccess, false},
		{"EDNS 0 answered with OPT", func(m *dns.Msg) { m.SetEdns0(4096, true) }, dns.RcodeSuccess, true},
		{"unknown options ignored", func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			o := m.IsEdns0()
			o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0123456789abcdef"},
				&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{192, 0, 2, 0}},
				&dns.EDNS0_LOCAL{Code: 65001, Data: []byte("x")})
		}, dns.RcodeSuccess, true},
		{"EDNS version 1 gets BADVERS", func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }, dns.RcodeBadVers, true},
		// RFC 6891 §7: the OPT record on every answer to an EDNS query,
		// errors included.
		{"NOTIMP keeps the OPT", func(m *dns.Msg) { m.SetEdns0(1232, false); m.Opcode = dns.OpcodeNotify }, dns.RcodeNotImplemented, true},
		{"REFUSED keeps the OPT", func(m *dns.Msg) { m.SetEdns0(1232, false); m.Question[0].Qclass = dns.ClassCHAOS }, dns.RcodeRefused, true},
		{"two OPT records: FORMERR with OPT", func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.Extra = append(m.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}})
		}, dns.RcodeFormatError, true},
		{"NOTIMP without EDNS has no OPT", func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, dns.RcodeNotImplemented, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m := ask(t, r, v, name, dns.TypeA, tc.edit)
			if m.Rcode != tc.wantRcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			opt := m.IsEdns0()
			if (opt != nil) != tc.wantOPT {
				t.Fatalf("OPT present %v, want %v", opt != nil, tc.wantOPT)
			}
			if opt != nil && (opt.UDPSize() != 1232 || opt.Version() != 0) {
				t.Errorf("OPT size %d version %d, want 1232 and 0", opt.UDPSize(), opt.Version())
			}
			if tc.wantRcode == dns.RcodeSuccess && len(m.Answer) != 1 {
				t.Errorf("answer %v", m.Answer)
			}
		})
	}
}

func TestRespond_TruncatesToClientLimit(t *testing.T) {
	r, v := newTestResponder(t), fixture(t).Load()
	name := "dave.umkc.edu.4.2.0.192.sender.wl.example.org."
	tests := []struct {
		desc     string
		edns     uint16
		udpLimit int
		wantTC   bool
	}{
		{"fits 512", 0, 1232, false},
		{"transport limit below answer", 0, 100, true},
		{"EDNS size below 512 counts as 512", 200, 1232, false},
		{"TCP never truncates", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(name, dns.TypeANY)
			if tc.edns != 0 {
				q.SetEdns0(tc.edns, false)
			}
			req, _ := q.Pack()
			m := exchange(t, r, v, req, tc.udpLimit)
			if m.Truncated != tc.wantTC {
				t.Fatalf("TC %v, want %v", m.Truncated, tc.wantTC)
			}
			if tc.wantTC && (len(m.Answer) != 0 || len(m.Ns) != 0 || len(m.Question) != 1) {
				t.Errorf("truncated answer must hold the question only: %v", m)
			}
			if !tc.wantTC && len(m.Answer) != 2 {
				t.Errorf("want A and TXT, got %v", m.Answer)
			}
		})
	}
}

func TestRespond_TruncatesLongTXTWithoutEDNS(t *testing.T) {
	r := newTestResponder(t)
	ix := fixture(t)
	local := "a23456789012345678901234567890123456789012345678901234567890123"
	domain := "b23456789012345678901234567890123456789012345678901234567890.c23456789012345678901234567890123456789012345678901234567890.d234567890123456789.example"
	tx := ix.Begin()
	tx.PutPair(recordPair{Entity: 1, Sender: local + "@" + domain}.pair())
	tx.Commit()
	name := local + "." + domain + ".4.2.0.192.sender.wl.example.org."
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeTXT)
	req, _ := q.Pack()
	if m := exchange(t, r, ix.Load(), req, 1232); !m.Truncated {
		t.Errorf("%d-octet name with its TXT over UDP without EDNS: want TC", len(name))
	}
	m := exchange(t, r, ix.Load(), req, 0)
	txt, ok := m.Answer[0].(*dns.TXT)
	if !ok || len(txt.Txt) != 2 || len(txt.Txt[0]) != 255 {
		t.Fatalf("want the text split into a 255-byte string and the rest, got %v", m.Answer)
	}
}

func TestRespond_ClassAndOpcode(t *testing.T) {
	r, v := newTestResponder(t), fixture(t).Load()
	name := "4.2.0.192.relay.wl.example.org."
	tests := []struct {
		desc  string
		edit  func(*dns.Msg)
		rcode int
		aa    bool
	}{
		{"class IN", func(*dns.Msg) {}, dns.RcodeSuccess, true},
		{"class ANY", func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }, dns.RcodeSuccess, true},
		{"class CH refused", func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }, dns.RcodeRefused, false},
		{"NOTIFY not implemented", func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }, dns.RcodeNotImplemented, false},
		{"UPDATE not implemented", func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, dns.RcodeNotImplemented, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m := ask(t, r, v, name, dns.TypeA, tc.edit)
			if m.Rcode != tc.rcode || m.Authoritative != tc.aa {
				t.Errorf("rcode %s aa %v, want %s aa %v", dns.RcodeToString[m.Rcode], m.Authoritative, dns.RcodeToString[tc.rcode], tc.aa)
			}
		})
	}
}

func TestRespond_HostilePackets(t *testing.T) {
	r, v := newTestResponder(t), fixture(t).Load()
	good, _ := (&dns.Msg{Question: []dns.Question{{Name: "wl.example.org.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}}}).Pack()
	hdr := func(qd int) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint16(b[0:], 0x1234)
		binary.BigEndian.PutUint16(b[4:], uint16(qd))
		return b
	}
	long := hdr(1)
	for i := 0; i < 5; i++ { // 5 × 64 octets > 255
		long = append(long, 63)
		long = append(long, make([]byte, 63)...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	tests := []struct {
		desc string
		pkt  []byte
		drop bool
	}{
		{"shorter than a header", good[:11], true},
		{"QR set", func() []byte { b := append([]byte{}, good...); b[2] |= 0x80; return b }(), true},
		{"no question", hdr(0), false},
		{"two questions", append(append(hdr(2), good[12:]...), good[12:]...), false},
		{"question cut short", good[:len(good)-2], false},
		{"compression pointer in question", append(hdr(1), 0xc0, 12, 0, 1, 0, 1), false},
		{"label type 0x40", append(hdr(1), 0x41, 'a', 0, 0, 1, 0, 1), false},
		{"label past the end", append(hdr(1), 30, 'a', 'b'), false},
		{"name over 255 octets", long, false},
		{"additional record cut short", func() []byte { b := append([]byte{}, good...); b[11] = 1; return append(b, 0, 0, 41) }(), false},
		{"two OPT records", func() []byte {
			b := append([]byte{}, good...)
			b[11] = 2
			opt := []byte{0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0}
			return append(append(b, opt...), opt...)
		}(), false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			out, ok := r.Respond(nil, tc.pkt, v, 512)
			if ok == tc.drop {
				t.Fatalf("answered %v, want drop %v", ok, tc.drop)
			}
			if tc.drop {
				return
			}
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatalf("response does not unpack: %v", err)
			}
			if m.Rcode != dns.RcodeFormatError || m.Id != 0x1234 && m.Id != binary.BigEndian.Uint16(good) {
				t.Errorf("rcode %s id %x, want FORMERR with the query's ID", dns.RcodeToString[m.Rcode], m.Id)
			}
		})
	}
}

func TestRespond_NSID(t *testing.T) {
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60, NS: []string{"ns1.example.net."},
		Hostmaster: "hostmaster@wl.example.org", NSID: "mirror-fra-1"})
	if err != nil {
		t.Fatal(err)
	}
	v := fixture(t).Load()
	nsidOf := func(m *dns.Msg) string {
		if o := m.IsEdns0(); o != nil {
			for _, opt := range o.Option {
				if n, ok := opt.(*dns.EDNS0_NSID); ok {
					return n.Nsid
				}
			}
		}
		return ""
	}
	askNSID := func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	}
	for _, tc := range []struct {
		desc  string
		name  string
		edit  func(*dns.Msg)
		rcode int
		want  string
	}{
		{"asked on an answer", "4.2.0.192.relay.wl.example.org.", askNSID, dns.RcodeSuccess, "6d6972726f722d6672612d31"},
		{"asked on a miss", "9.9.0.192.relay.wl.example.org.", askNSID, dns.RcodeNameError, "6d6972726f722d6672612d31"},
		{"asked on NOTIMP", "4.2.0.192.relay.wl.example.org.", func(m *dns.Msg) { askNSID(m); m.Opcode = dns.OpcodeNotify }, dns.RcodeNotImplemented, "6d6972726f722d6672612d31"},
		{"not asked", "4.2.0.192.relay.wl.example.org.", func(m *dns.Msg) { m.SetEdns0(1232, false) }, dns.RcodeSuccess, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			m := ask(t, r, v, tc.name, dns.TypeA, tc.edit)
			if m.Rcode != tc.rcode || nsidOf(m) != tc.want {
				t.Fatalf("rcode %s NSID %q, want %s %q", dns.RcodeToString[m.Rcode], nsidOf(m), dns.RcodeToString[tc.rcode], tc.want)
			}
		})
	}
	if _, err := NewResponder(ResponderConfig{Apex: testApex, NS: []string{"ns1.example.net."}, Hostmaster: "h@wl.example.org",
		NSID: string(make([]byte, maxNSID+1))}); err == nil {
		t.Error("an NSID over 128 bytes was accepted")
	}
}
