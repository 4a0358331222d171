package zone

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

// FuzzRespond feeds random packets to Respond: it never panics, and every
// answer unpacks with miekg/dns, echoes the ID, fits the UDP limit and, for
// a well-formed question, echoes it.
func FuzzRespond(f *testing.F) {
	seeds := []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{"dave.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeA, false},
		{`first\.last.umkc.edu.4.2.0.192.sender.wl.example.org.`, dns.TypeANY, true},
		{record.HashLabel("dave@umkc.edu") + ".umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeTXT, true},
		{"4.2.0.192.relay.wl.example.org.", dns.TypeA, true},
		{"1.0.0.2.relay.wl.example.org.", dns.TypeA, false},
		{"lists.example.net.4.2.0.192.verp.wl.example.org.", dns.TypeTXT, false},
		{"wl.example.org.", dns.TypeSOA, true},
		{"example.com.", dns.TypeA, false},
	}
	for _, s := range seeds {
		q := new(dns.Msg)
		q.SetQuestion(s.name, s.qtype)
		if s.edns {
			q.SetEdns0(4096, true)
		}
		b, _ := q.Pack()
		f.Add(b, uint16(512))
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, uint16(0))
	r := newTestResponder(f)
	v := fixture(f).Load()
	f.Fuzz(func(t *testing.T, req []byte, limit uint16) {
		out, ok := r.Respond(nil, req, v, int(limit))
		if !ok {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("response does not unpack: %v\nreq %x\nresp %x", err, req, out)
		}
		if m.Id != binary.BigEndian.Uint16(req) || !m.Response {
			t.Fatalf("id %x response %v, want id %x", m.Id, m.Response, binary.BigEndian.Uint16(req))
		}
		if limit > 0 && len(out) > max(int(limit), 512) && len(out) > 12+255+4+11 {
			t.Fatalf("%d-byte UDP answer over limit %d", len(out), limit)
		}
		if m.Rcode != dns.RcodeFormatError && m.Rcode != dns.RcodeNotImplemented && len(m.Question) != 1 {
			t.Fatalf("question not echoed: %v", m)
		}
	})
}
