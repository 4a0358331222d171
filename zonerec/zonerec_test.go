package zonerec

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

func TestNormalize_Table(t *testing.T) {
	cases := []struct {
		name, typ, data string
		ttl             uint32
		wantName        string
		wantData        string
		err             string
	}{
		{name: "NS1", typ: "a", data: "192.0.2.53", wantName: "ns1", wantData: "192.0.2.53"},
		{name: "@", typ: "MX", data: "10   mx", wantName: "@", wantData: "10 mx"},
		{name: "@", typ: "MX", data: "0 .", wantName: "@", wantData: "0 ."},
		{name: "@", typ: "MX", data: "10 MX.Example.NET.", wantName: "@", wantData: "10 MX.Example.NET."},
		{name: "", typ: "TXT", data: `"v=spf1 -all"`, wantName: "@", wantData: `"v=spf1 -all"`},
		{name: "@", typ: "txt", data: `v=spf1 mx -all`, wantName: "@", wantData: `"v=spf1 mx -all"`},
		{name: "@", typ: "TXT", data: `say "hi"`, wantName: "@", wantData: `"say \"hi\""`},
		{name: "@", typ: "TXT", data: strings.Repeat("x", 300), wantName: "@", wantData: `"` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 45) + `"`},
		{name: "@", typ: "TXT", data: `"a" "b"`, wantName: "@", wantData: `"a" "b"`},
		{name: "ns1.", typ: "AAAA", data: "2001:DB8::53", wantName: "ns1", wantData: "2001:db8::53"},
		{name: "@", typ: "CAA", data: `0 issue "letsencrypt.org"`, wantName: "@", wantData: `0 issue "letsencrypt.org"`},
		{name: "_25._tcp.mx", typ: "TLSA", data: "3 1 1 " + strings.Repeat("ab", 32), wantName: "_25._tcp.mx"},
		{name: "_submission._tcp", typ: "SRV", data: "0 1 587 mail.example.net.", wantName: "_submission._tcp"},
		{name: "ns1", typ: "A", data: "2001:db8::1", err: "A"},
		{name: "ns1", typ: "A", data: "192.0.2.1 192.0.2.2", err: "192.0.2.1"},
		{name: "ns1", typ: "A", data: "", err: "RDATA"},
		{name: "ns1", typ: "TXT", data: "a\nb", err: "one line"},
		{name: "ns1", typ: "CNAME", data: "x", err: "type"},
		{name: "@", typ: "NS", data: "ns1", err: "type"},
		{name: "x.relay", typ: "A", data: "192.0.2.1", err: "relay zone"},
		{name: "sender", typ: "TXT", data: `"x"`, err: "sender zone"},
		{name: "*.x", typ: "A", data: "192.0.2.1", err: "labels"},
		{name: "a..b", typ: "A", data: "192.0.2.1", err: "labels"},
		{name: "ns1", typ: "A", data: "192.0.2.1", ttl: MaxTTL + 1, err: "TTL"},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.typ+"/"+c.data, func(t *testing.T) {
			got, err := Normalize(record.ZoneRecord{Name: c.name, Type: c.typ, Data: c.data, TTL: c.ttl})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Normalize = %+v, %v; want an error containing %q", got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != c.wantName || c.wantData != "" && got.Data != c.wantData {
				t.Errorf("Normalize = %q %q, want %q %q", got.Name, got.Data, c.wantName, c.wantData)
			}
		})
	}
}

func TestRR_RelativeNamesTakeTheApex(t *testing.T) {
	rr, err := RR(&record.ZoneRecord{Name: "@", Type: "MX", Data: "10 mx"}, "wl.test", 300)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rr.String(), "wl.test.\t300\tIN\tMX\t10 mx.wl.test."; got != want {
		t.Errorf("RR = %q, want %q", got, want)
	}
}

// QuoteTXT is the one way TXT text is written in presentation format
// (zone exports and zone records alike), and what it writes parses back
// to the same octets, 255 to a string.
func TestQuoteTXT_RoundTripsThroughTheParser(t *testing.T) {
	for _, text := range []string{"v=spf1 mx -all", `say "hi" \ bye`, "h\xc3\xa9llo\tx\x7f", strings.Repeat("x", 300)} {
		q := QuoteTXT([]byte(text))
		rr, err := dns.NewRR("x. 60 IN TXT " + q)
		if err != nil {
			t.Fatalf("%q quoted as %s: %v", text, q, err)
		}
		buf := make([]byte, 1024)
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		var strs int
		for rd := buf[end-int(rr.Header().Rdlength) : end]; len(rd) > 0; rd = rd[1+int(rd[0]):] {
			got = append(got, rd[1:1+int(rd[0])]...)
			strs++
		}
		if string(got) != text || strs != (len(text)+254)/255 {
			t.Errorf("%q quoted as %s parses to %q in %d strings", text, q, got, strs)
		}
	}
}
