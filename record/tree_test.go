package record

import (
	"net/netip"
	"testing"
)

func TestBelowCut(t *testing.T) {
	p := netip.MustParsePrefix("192.0.2.0/24")
	cases := []struct {
		name string
		want bool
	}{
		{"ns1.2.0.192.relay.wl.example.org", true},
		{"a.b.2.0.192.sender.wl.example.org", true},
		{"ns.2.0.192.verp.other.apex", true},
		{"2.0.192.relay.wl.example.org", false}, // the cut itself
		{"ns.x.wl.example.org", false},          // elsewhere in the zone
		{"ns.2.0.198.relay.wl.example.org", false},
		{"ns.12.0.192.relay.wl.example.org", false}, // 12.0.192 is another /24
		{"ns.5.2.0.192.relay.wl.example.org", true},
		{"ns.2.0.1192.relay.wl.example.org", false},
		{"ns.2.0.192.relay", false}, // no apex
		{"ns.pm.example", false},
	}
	for _, c := range cases {
		if got := BelowCut(p, c.name); got != c.want {
			t.Errorf("BelowCut(%s, %s) = %v, want %v", p, c.name, got, c.want)
		}
	}
}
