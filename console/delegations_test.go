package console

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/wlns/wlns/delegcheck"
)

func TestDelegations_PostmasterDelegatesInsideTheirPrefixesWithTheCheckShown(t *testing.T) {
	r := newRig(t)
	r.c.cfg.Apex = "wl.test"
	r.c.cfg.DelegationCheck = func(p netip.Prefix) *delegcheck.Result {
		return &delegcheck.Result{Checked: 1_700_000_000, Lame: true, Servers: []delegcheck.Server{
			{Name: "ns1.a.example", Addr: "192.0.2.53", Problem: "answered REFUSED for 2.0.192.relay.wl.test"}}}
	}
	cookie, csrf := r.postmaster("pm-a", "192.0.2.0/24")
	w := r.post("/console/delegations", cookie, csrf, "prefix", "192.0.2.0/24", "ns", "ns1.2.0.192.relay.wl.test 192.0.2.53\r\nNS2.A.example.")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("delegating: %d\n%s", w.Code, w.Body)
	}
	d := r.st.Index().Load().DelegationOf(netip.MustParsePrefix("192.0.2.0/24"))
	if d == nil || len(d.NS) != 2 || d.NS[0].Name != "ns1.2.0.192.relay.wl.test" || len(d.NS[0].Addrs) != 1 || d.NS[1].Name != "ns2.a.example" ||
		d.By != "console:pm-a" {
		t.Fatalf("the delegation made in the console: %+v", d)
	}
	body := r.do("GET", "/console/delegations?done=saved", cookie, nil).Body.String()
	for _, want := range []string{"Saved.", "192.0.2.0/24", "ns2.a.example", "wl.test", "lame", "answered REFUSED"} {
		if !strings.Contains(body, want) {
			t.Errorf("the delegations page lacks %q:\n%s", want, body)
		}
	}

	for _, c := range []struct {
		name, prefix, ns string
		code             int
		want             string
	}{
		{"outside", "198.51.100.0/24", "ns1.a.example", http.StatusForbidden, "198.51.100.0/24 lies outside your prefixes (192.0.2.0/24)"},
		{"not on a label", "192.0.2.0/25", "ns1.a.example", http.StatusBadRequest, "192.0.2.0/25"},
		{"bad prefix", "192.0.2", "ns1.a.example", http.StatusBadRequest, "192.0.2"},
		{"bad glue", "192.0.2.0/24", "ns1.a.example 192.0.2.x", http.StatusBadRequest, "(for ns1.a.example) is not an IP address"},
		{"glue outside the cut", "192.0.2.0/24", "ns.x.wl.test 192.0.2.53", http.StatusBadRequest, "not below a cut of 192.0.2.0/24"},
		{"glue outside the zone", "192.0.2.0/24", "ns1.a.example 192.0.2.53", http.StatusBadRequest, "its address is not glue"},
		{"no servers", "192.0.2.0/24", " \n", http.StatusBadRequest, "at least one name server"},
		{"bad name", "192.0.2.0/24", "ns1..example", http.StatusBadRequest, "Name server"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, r.post("/console/delegations", cookie, csrf, "prefix", c.prefix, "ns", c.ns), c.code, c.want)
		})
	}
	if n := len(r.st.Index().Load().Delegations()); n != 1 {
		t.Errorf("%d delegations after the refused forms, want 1", n)
	}

	// Another postmaster neither sees nor ends A's delegation.
	other, otherCSRF := r.postmaster("pm-b", "198.51.100.0/24")
	if body := r.do("GET", "/console/delegations", other, nil).Body.String(); strings.Contains(body, "ns2.a.example") {
		t.Errorf("B sees A's delegation:\n%s", body)
	}
	if w := r.post("/console/delegations/delete", other, otherCSRF, "prefix", "192.0.2.0/24"); w.Code != http.StatusNotFound {
		t.Errorf("B ending A's delegation: %d, want 404", w.Code)
	}
	if w := r.post("/console/delegations/delete", cookie, csrf, "prefix", "192.0.2.0/24"); w.Code != http.StatusSeeOther {
		t.Fatalf("ending the delegation: %d\n%s", w.Code, w.Body)
	}
	if r.st.Index().Load().DelegationOf(netip.MustParsePrefix("192.0.2.0/24")) != nil {
		t.Error("the delegation survived its delete")
	}
}
