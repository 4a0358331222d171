package qname

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// FuzzReadWire checks the question-name reader against miekg/dns: it never
// panics, and what it accepts miekg reads as the same (lower-cased) name.
func FuzzReadWire(f *testing.F) {
	for _, s := range []string{"wl.example.org.", `first\.last.umkc.edu.4.2.0.192.sender.wl.example.org.`,
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.relay.wl.example.org.", "."} {
		b := make([]byte, 300)
		n, _ := dns.PackDomainName(s, b, 0, nil, false)
		f.Add(b[:n])
	}
	f.Add([]byte{0xc0, 0x0c})
	f.Fuzz(func(t *testing.T, wire []byte) {
		var n Name
		end, err := n.ReadWire(wire, 0)
		if err != nil {
			return
		}
		_, wend, merr := dns.UnpackDomainName(wire, 0)
		if merr != nil || wend != end {
			t.Fatalf("accepted %x (end %d) but miekg says %v (end %d)", wire, end, merr, wend)
		}
		var got []byte
		for i := 0; i < n.Len(); i++ {
			got = append(got, byte(len(n.Label(i))))
			got = append(got, n.Label(i)...)
		}
		got = append(got, 0)
		want := make([]byte, end)
		lowerInto(want, wire[:end])
		if !bytes.Equal(got, want) || n.WireLen() != end {
			t.Fatalf("labels %q, want %q", got, want)
		}
		for end := 0; end <= n.Len(); end++ {
			r := ParseRevIP(&n, end)
			if r.Full && (r.Used > end || !r.Addr.IsValid()) {
				t.Fatalf("ParseRevIP(%d) = %+v", end, r)
			}
		}
	})
}
