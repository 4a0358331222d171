package rbldnsd

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestFlatten_LongestPrefixWinsAsInWlns(t *testing.T) {
	m := func(p string, listed bool, text string) Member {
		return Member{Prefix: netip.MustParsePrefix(p), Listed: listed, Text: text}
	}
	tests := []struct {
		name string
		in   []Member
		want string
	}{
		{"disjoint", []Member{m("192.0.2.9/32", true, "b"), m("192.0.2.1/32", true, "a")},
			"192.0.2.1/32=a 192.0.2.9/32=b"},
		{"a relay inside a group", []Member{m("10.0.0.0/30", true, "g"), m("10.0.0.1/32", true, "r")},
			"10.0.0.0/32=g 10.0.0.1/32=r 10.0.0.2/31=g"},
		{"an unregistered relay cuts a hole", []Member{m("10.0.0.0/24", true, "g"), m("10.0.0.0/32", false, "")},
			"10.0.0.1/32=g 10.0.0.2/31=g 10.0.0.4/30=g 10.0.0.8/29=g 10.0.0.16/28=g 10.0.0.32/27=g 10.0.0.64/26=g 10.0.0.128/25=g"},
		{"nested in the same octet class", []Member{m("10.0.0.0/20", true, "outer"), m("10.0.0.0/22", true, "inner")},
			"10.0.0.0/22=inner 10.0.4.0/22=outer 10.0.8.0/21=outer"},
		{"the later of equal prefixes wins", []Member{m("127.0.0.2/32", true, "entity"), m("127.0.0.2/32", true, "test")},
			"127.0.0.2/32=test"},
		{"the end of the address space", []Member{m("255.255.255.0/24", true, "x"), m("255.255.255.255/32", false, "")},
			"255.255.255.0/25=x 255.255.255.128/26=x 255.255.255.192/27=x 255.255.255.224/28=x 255.255.255.240/29=x 255.255.255.248/30=x 255.255.255.252/31=x 255.255.255.254/32=x"},
		{"IPv6 after IPv4", []Member{m("2001:db8::/32", true, "six"), m("2001:db8::/48", true, "inner"), m("192.0.2.0/24", true, "four")},
			"192.0.2.0/24=four 2001:db8::/48=inner 2001:db8:1::/48=six 2001:db8:2::/47=six 2001:db8:4::/46=six 2001:db8:8::/45=six 2001:db8:10::/44=six 2001:db8:20::/43=six 2001:db8:40::/42=six 2001:db8:80::/41=six 2001:db8:100::/40=six 2001:db8:200::/39=six 2001:db8:400::/38=six 2001:db8:800::/37=six 2001:db8:1000::/36=six 2001:db8:2000::/35=six 2001:db8:4000::/34=six 2001:db8:8000::/33=six"},
		{"unlisted only", []Member{m("10.0.0.0/8", false, "")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range Flatten(tc.in) {
				got = append(got, e.Prefix.String()+"="+e.Text)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("Flatten:\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}

func TestWrite_EntriesCarryTheirAnswer(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, Dataset{Type: "ip4set", A: "127.0.2.1", TTL: 300, Entries: []Member{
		{Prefix: netip.MustParsePrefix("192.0.2.4/32"), Listed: true, Text: "wlns: registered relay 192.0.2.4"},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Listed: true, Text: "wlns: registered relay group pay$\nday"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := "# wlns relay zone as an rbldnsd ip4set dataset: 2 entries\n$TTL 300\n" +
		"192.0.2.4 :127.0.2.1:wlns: registered relay 192.0.2.4\n" +
		"198.51.100.0/24 :127.0.2.1:wlns: registered relay group pay$$?day\n"
	if b.String() != want {
		t.Errorf("Write:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestParse_TheFormsOfRbldnsd8(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"127.0.0.0/24", "127.0.0.0/24"},
		{"127.0.0", "127.0.0.0/24"},
		{"127/24", "127.0.0.0/24"},
		{"127-127.0.0", "127.0.0.0/24"},
		{"127.0.0.0-127.0.0.255", "127.0.0.0/24"},
		{"127.0.0.1-255", "127.0.0.1/32 127.0.0.2/31 127.0.0.4/30 127.0.0.8/29 127.0.0.16/28 127.0.0.32/27 127.0.0.64/26 127.0.0.128/25"},
		{"127.16.0.0-127.31.255.255", "127.16.0.0/12"},
		{"127.16.0-127.31.255", "127.16.0.0/12"},
		{"127.16-127.31", "127.16.0.0/12"},
		{"127.16-31", "127.16.0.0/12"},
		{"127.16/12", "127.16.0.0/12"},
		{"192.0.2.4 :127.0.0.3:listed for $", "192.0.2.4/32"},
		{"192.0.2.5 listed", "192.0.2.5/32"},
		{"10/8 ; loopback network", "10.0.0.0/8"},
		{"2001:21ab:c000/36", "2001:21ab:c000::/36"},
		{"2001:21ab:def7:4242 :127.0.1.3: This one smells funny", "2001:21ab:def7:4242::/64"},
		{"2605:6001:42::/52", "2605:6001:42::/52"},
		{"::1		       # localhost", "::1/128"},
		{"2001:db8::7", "2001:db8::7/128"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			var got []string
			err := Parse(strings.NewReader("# comment\n$SOA 0 a b 0 1 2 3 4\n:127.0.0.2:default\n\n"+tc.line+"\n"), func(e Entry) error {
				if e.Line != 5 {
					t.Errorf("line %d, want 5", e.Line)
				}
				for _, p := range e.Prefixes {
					got = append(got, p.String())
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s, want %s", g, tc.want)
			}
		})
	}
}

func TestParse_RefusesWhatItCannotImport(t *testing.T) {
	for _, line := range []string{"!192.0.2.4", "192.0.2.300", "192.0.2.1/24", "10.0.0.9-10.0.0.1", "1.2.3.4.5", "2001:db8::/129", "fe80::1%eth0", "010.0.0.1"} {
		err := Parse(strings.NewReader("\n"+line+"\n"), func(Entry) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: %v, want an error naming line 2", line, err)
		}
	}
	err := Parse(strings.NewReader("!10.0.0.1\n"), func(Entry) error { return nil })
	if !errors.Is(err, ErrExclusion) {
		t.Errorf("exclusion: %v", err)
	}
	stop := fmt.Errorf("stop")
	if err := Parse(strings.NewReader("10.0.0.1\n10.0.0.2\n"), func(Entry) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"127.0.0.1-255\n", "127.16-31\n", "2001:21ab:c000/36 :2:x\n", "::1\n", "!10.0.0.1\n",
		":127.0.0.2:default\n$SOA 0 a b 0 1 2 3 4\n10/8 ; net\n", "255.255.255.255-255\n", "0/0\n", "::/0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		_ = Parse(strings.NewReader(data), func(e Entry) error {
			if len(e.Prefixes) == 0 || len(e.Prefixes) > 64 {
				t.Fatalf("line %d: %d prefixes", e.Line, len(e.Prefixes))
			}
			for i, p := range e.Prefixes {
				if !p.IsValid() || p.Masked() != p {
					t.Fatalf("line %d: prefix %v not valid and masked", e.Line, p)
				}
				if i > 0 && lastAddr(e.Prefixes[i-1]).Next() != p.Addr() {
					t.Fatalf("line %d: prefixes %v not contiguous", e.Line, e.Prefixes)
				}
			}
			return nil
		})
	})
}
