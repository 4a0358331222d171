package qname

import (
	"crypto/sha256"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/wlns/wlns/record"
)

func TestName_ReadWireLowerCasesAndFindsLabels(t *testing.T) {
	var n Name
	w := pack(t, `First\.Last.UMKC.edu.4.2.0.192.Sender.WL.example.org.`)
	end, err := n.ReadWire(w, 0)
	if err != nil || end != len(w) {
		t.Fatalf("end %d err %v", end, err)
	}
	if n.Len() != 11 || string(n.Label(0)) != "first.last" || string(n.Label(7)) != "sender" {
		t.Errorf("labels: %d %q %q", n.Len(), n.Label(0), n.Label(7))
	}
	apex := pack(t, "wl.example.org.")
	if i, ok := n.HasSuffix(apex); !ok || i != 8 {
		t.Errorf("HasSuffix = %d, %v; want 8, true", i, ok)
	}
	if _, ok := n.HasSuffix(pack(t, "l.example.org.")); ok {
		t.Errorf("a suffix must match whole labels")
	}
	if got := string(n.AppendJoined(nil, 1, 3, '.')); got != "umkc.edu" {
		t.Errorf("joined %q", got)
	}
}

func TestName_ReadWireRejects(t *testing.T) {
	long := []byte{}
	for i := 0; i < 5; i++ {
		long = append(long, 63)
		long = append(long, make([]byte, 63)...)
	}
	tests := []struct {
		desc string
		wire []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"no root", []byte{1, 'a'}, ErrTruncated},
		{"label past end", []byte{5, 'a'}, ErrTruncated},
		{"pointer", []byte{0xc0, 0}, ErrPointer},
		{"extended label", []byte{0x41, 0}, ErrLabelType},
		{"over 255", append(long, 0), ErrNameTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var n Name
			if _, err := n.ReadWire(tc.wire, 0); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseRevIP_Classifies(t *testing.T) {
	v6 := "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
	tests := []struct {
		labels  string // labels below the zone label
		addr    string // "" when not Full
		used    int
		partial bool
	}{
		{"4.2.0.192", "192.0.2.4", 4, false},
		{"dave.umkc.edu.4.2.0.192", "192.0.2.4", 4, false},
		{"4.3.2.1", "1.2.3.4", 4, true}, // also the top of 1234::/16
		{"a.4.3.2.1", "1.2.3.4", 4, true},
		{v6, "2001:db8::1", 32, false},
		{"x." + v6, "2001:db8::1", 32, false},
		{"2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", "127.0.0.2", 32, false},
		{"192", "", 0, true},
		{"2.0.192", "", 0, true},
		{"8.b.d.0.1.0.0.2", "2.0.0.1", 4, true}, // IPv4 2.0.0.1 and the top of 2001:db8::/32
		{"256.2.0.192", "", 0, false},
		{"04.2.0.192", "", 0, false},
		{"x.2.0.192", "", 0, false},
		{"g.1", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.labels, func(t *testing.T) {
			var n Name
			if _, err := n.ReadWire(pack(t, tc.labels+".sender.wl.example.org."), 0); err != nil {
				t.Fatal(err)
			}
			r := ParseRevIP(&n, n.Len()-4)
			if tc.addr != "" && (!r.Full || r.Addr != netip.MustParseAddr(tc.addr) || r.Used != tc.used) {
				t.Errorf("got %+v, want %s from %d labels", r, tc.addr, tc.used)
			}
			if tc.addr == "" && r.Full {
				t.Errorf("got full address %v", r.Addr)
			}
			if r.Partial != tc.partial {
				t.Errorf("partial %v, want %v", r.Partial, tc.partial)
			}
		})
	}
}

func TestDecodeHash_MatchesRecordEncoding(t *testing.T) {
	for _, addr := range []string{"dave@umkc.edu", "first.last@example.com", ""} {
		label := record.HashLabel(addr)
		var got [32]byte
		if !record.DecodeHashLabel([]byte(strings.ToUpper(label)), &got) || got != sha256.Sum256([]byte(addr)) {
			t.Errorf("%q: decoding %s failed", addr, label)
		}
	}
	var sum [32]byte
	for _, bad := range []string{"short", strings.Repeat("a", 51) + "1", strings.Repeat("a", 51) + "b"} {
		if record.DecodeHashLabel([]byte(bad), &sum) {
			t.Errorf("%q accepted as a hash label", bad)
		}
	}
}
