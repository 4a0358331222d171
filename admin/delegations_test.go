package admin

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/wlns/wlns/delegcheck"
)

func TestDelegations_PostmasterDelegatesOnlyWithinItsPrefixes(t *testing.T) {
	e := newTestEnv(t)
	e.api.cfg.Apex = "wl.test"
	e.api.cfg.DelegationCheck = func(p netip.Prefix) *delegcheck.Result {
		return &delegcheck.Result{Lame: true, Servers: []delegcheck.Server{{Name: "ns.pm.example", Problem: "no answer"}}}
	}
	body := `{"prefix":"192.0.2.0/24","ns":[{"name":"ns1.2.0.192.relay.wl.test","addrs":["10.0.0.53"]},{"name":"ns.pm.example"}]}`
	var got DelegationInfo
	e.must(http.StatusCreated, "POST", "/v1/delegations", postmasterSecret, body).json(t, &got)
	if got.By != "pm" || len(got.NS) != 2 || got.NS[0].Name != "ns.pm.example" || !got.Lame ||
		strings.Join(got.Cuts, " ") != "2.0.192.relay.wl.test. 2.0.192.sender.wl.test. 2.0.192.verp.wl.test." {
		t.Fatalf("created delegation: %+v", got)
	}
	e.must(http.StatusOK, "POST", "/v1/delegations", postmasterSecret, body)

	cases := []struct {
		name, secret, body string
		status             int
		msg                string
	}{
		{"outside the token's prefixes", postmasterSecret, `{"prefix":"198.51.100.0/24","ns":[{"name":"ns.pm.example"}]}`, http.StatusForbidden, "outside its prefixes"},
		{"wider than the token's prefix", postmasterSecret, `{"prefix":"192.0.0.0/16","ns":[{"name":"ns.pm.example"}]}`, http.StatusForbidden, "outside its prefixes"},
		{"read token", readSecret, body, http.StatusForbidden, "may only read"},
		{"not on a label", adminSecret, `{"prefix":"198.51.100.0/25","ns":[{"name":"ns.pm.example"}]}`, http.StatusBadRequest, "must end on a DNS label"},
		{"no name server", adminSecret, `{"prefix":"198.51.100.0/24","ns":[]}`, http.StatusBadRequest, "1 to 8 name servers"},
		{"in-zone name outside the cut", adminSecret, `{"prefix":"198.51.100.0/24","ns":[{"name":"ns.x.wl.test","addrs":["10.0.0.53"]}]}`, http.StatusBadRequest, "not below a cut of 198.51.100.0/24"},
		{"in another prefix's cut", adminSecret, `{"prefix":"198.51.100.0/24","ns":[{"name":"ns1.2.0.192.relay.wl.test","addrs":["10.0.0.53"]}]}`, http.StatusBadRequest, "not below a cut"},
		{"in the cut without glue", adminSecret, `{"prefix":"198.51.100.0/24","ns":[{"name":"ns1.100.51.198.relay.wl.test"}]}`, http.StatusBadRequest, "need its address"},
		{"address for a name outside the zone", adminSecret, `{"prefix":"198.51.100.0/24","ns":[{"name":"ns.pm.example","addrs":["10.0.0.53"]}]}`, http.StatusBadRequest, "its address is not glue"},
		{"nested", adminSecret, `{"prefix":"192.0.2.4/32","ns":[{"name":"ns.pm.example"}]}`, http.StatusConflict, "overlaps the delegation of 192.0.2.0/24"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/delegations", c.secret, c.body)
			if r.status != c.status || !strings.Contains(r.errorMsg(t), c.msg) {
				t.Fatalf("%d %s, want %d %q", r.status, r.body, c.status, c.msg)
			}
		})
	}

	var list DelegationList
	e.must(http.StatusOK, "GET", "/v1/delegations", readSecret, "").json(t, &list)
	if len(list.Delegations) != 1 || list.Delegations[0].Prefix.String() != "192.0.2.0/24" || list.Delegations[0].Check == nil {
		t.Fatalf("list: %+v", list)
	}
	e.must(http.StatusForbidden, "DELETE", "/v1/delegations?prefix=192.0.2.0/24", readSecret, "")
	e.must(http.StatusNoContent, "DELETE", "/v1/delegations?prefix=192.0.2.0/24", postmasterSecret, "")
	e.must(http.StatusNotFound, "DELETE", "/v1/delegations?prefix=192.0.2.0/24", adminSecret, "")
}
