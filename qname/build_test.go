package qname

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

const apex = "wl.example.org"

func TestRelay_Names(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"192.0.2.4", "4.2.0.192.relay.wl.example.org."},
		{"::ffff:192.0.2.4", "4.2.0.192.relay.wl.example.org."},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.relay.wl.example.org."},
		{"127.0.0.2", "2.0.0.127.relay.wl.example.org."},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			if got := Relay(netip.MustParseAddr(tc.ip), apex+"."); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSender_Forms(t *testing.T) {
	ip4 := netip.MustParseAddr("192.0.2.4")
	tests := []struct {
		sender string
		form   Form
		want   string
	}{
		{"dave@umkc.edu", Escaped, "dave.umkc.edu.4.2.0.192.sender.wl.example.org."},
		{"First.Last@UMKC.edu", Escaped, `first\.last.umkc.edu.4.2.0.192.sender.wl.example.org.`},
		{"first.last@umkc.edu", Plain, "first.last.umkc.edu.4.2.0.192.sender.wl.example.org."},
		{"dave@umkc.edu", Hashed, record.HashLabel("dave@umkc.edu") + ".4.2.0.192.sender.wl.example.org."},
		{"dave@umkc.edu", HashedDomain, record.HashLabel("dave@umkc.edu") + ".umkc.edu.4.2.0.192.sender.wl.example.org."},
		{"a$b;c@example.com", Escaped, `a\$b\;c.example.com.4.2.0.192.sender.wl.example.org.`},
	}
	for _, tc := range tests {
		t.Run(tc.form.String()+" "+tc.sender, func(t *testing.T) {
			got, err := Sender(tc.sender, ip4, apex, tc.form)
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			// dig and every resolver must read it back as the same labels.
			if _, ok := dns.IsDomainName(got); !ok {
				t.Errorf("%q is not a valid presentation name", got)
			}
		})
	}
}

func TestSender_EscapedReadsBackAsOneLocalLabel(t *testing.T) {
	name, err := Sender("first.last@umkc.edu", netip.MustParseAddr("192.0.2.4"), apex, Escaped)
	if err != nil {
		t.Fatal(err)
	}
	var n Name
	if _, err := n.ReadWire(pack(t, name), 0); err != nil {
		t.Fatal(err)
	}
	if got := string(n.Label(0)); got != "first.last" {
		t.Errorf("first label %q, want the whole local part", got)
	}
}

func TestSender_Errors(t *testing.T) {
	ip6 := netip.MustParseAddr("2001:db8::1")
	long := strings.Repeat("a", 63) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + ".example"
	tests := []struct {
		desc   string
		sender string
		ip     netip.Addr
		form   Form
		want   error
	}{
		{"domain only", "umkc.edu", ip6, Escaped, ErrNotAddress},
		{"over 255 octets with IPv6", long, ip6, Escaped, ErrTooLong},
		{"invalid sender", "a\x01b@c", ip6, Escaped, record.ErrBadSender},
		{"address literal, escaped", "user@[192.0.2.1]", ip6, Escaped, ErrNotReadable},
		{"address literal, hashed plus domain", "user@[192.0.2.1]", ip6, HashedDomain, ErrNotReadable},
		{"empty dot part, plain", "a..b@c.example", ip6, Plain, ErrNotReadable},
		{"local part over 63 octets, escaped", strings.Repeat("l", 64) + "@c.example", ip6, Escaped, ErrTooLong},
		{"no IP", "a@b.c", netip.Addr{}, Escaped, ErrBadIP},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Sender(tc.sender, tc.ip, apex, tc.form)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	for _, sender := range []string{long, "user@[192.0.2.1]", "a..b@c.example", strings.Repeat("l", 256) + "@c.example"} {
		if name, err := Sender(sender, ip6, apex, Hashed); err != nil || len(name) > 255 {
			t.Errorf("the hashed form must always fit: %q, %v", name, err)
		}
	}
}

func TestVerp_Names(t *testing.T) {
	got, err := Verp("Lists.Example.NET.", netip.MustParseAddr("192.0.2.4"), apex)
	if want := "lists.example.net.4.2.0.192.verp.wl.example.org."; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := Verp("bad domain", netip.MustParseAddr("192.0.2.4"), apex); !errors.Is(err, record.ErrBadDomain) {
		t.Errorf("error %v, want ErrBadDomain", err)
	}
}

func TestParseForm_RoundTrip(t *testing.T) {
	for _, f := range []Form{Escaped, Plain, Hashed, HashedDomain} {
		if got, err := ParseForm(strings.ToUpper(f.String())); err != nil || got != f {
			t.Errorf("ParseForm(%s) = %v, %v", f, got, err)
		}
	}
	if _, err := ParseForm("base64"); err == nil {
		t.Errorf("unknown form accepted")
	}
}

func pack(t testing.TB, name string) []byte {
	t.Helper()
	b := make([]byte, 512)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	if err != nil {
		t.Fatalf("packing %q: %v", name, err)
	}
	return b[:n]
}

func TestCut(t *testing.T) {
	cases := []struct{ prefix, tree, want string }{
		{"192.0.2.0/24", RelayZone, "2.0.192.relay.wl.example.org."},
		{"10.0.0.0/8", SenderZone, "10.sender.wl.example.org."},
		{"2001:db8::/32", VerpZone, "8.b.d.0.1.0.0.2.verp.wl.example.org."},
	}
	for _, c := range cases {
		got, err := Cut(netip.MustParsePrefix(c.prefix), c.tree, "WL.example.org.")
		if err != nil || got != c.want {
			t.Errorf("Cut(%s, %s) = %q, %v; want %q", c.prefix, c.tree, got, err, c.want)
		}
	}
	if _, err := Cut(netip.MustParsePrefix("192.0.2.0/25"), RelayZone, "wl.example.org"); err == nil {
		t.Error("a /25 has a cut")
	}
}
