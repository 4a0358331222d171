package systest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWhois_DebianClientAsksTheRegistry runs wlns serve with --whois and
// asks it with the Debian whois client, as a postmaster or an abuse desk
// would: an address gives its relay entity (longest-prefix match, IPv4 and
// IPv6), a group's name gives the group, the contact shows only its domain
// (--whois-contact domain), a delegated member prefix names its name
// servers, and an unknown address or a malformed query is
// answered with a comment, never an error.
func TestWhois_DebianClientAsksTheRegistry(t *testing.T) {
	whois := needTool(t, "whois", "whois")
	n := startNode(t, "", "--whois", "127.0.0.1:0", "--whois-contact", "domain")
	if n.ready.WHOIS == "" {
		t.Fatal("the ready file names no WHOIS address")
	}
	n.mustCLI("relay", "add", relayV4, "--contact", "postmaster@umkc.edu", "--ptr", "mx1.umkc.edu")
	n.mustCLI("group", "create", groupName, "--member", groupV4Net, "--member", groupV6Net,
		"--contact", "hostmaster@umkc.edu", "--registered")
	n.mustCLI("pair", "add", "dave@example.org", otherV4) // an unregistered relay entity
	n.mustCLI("delegation", "add", groupV4Net, "--ns", "ns1.umkc.edu", "--ns", "ns2.umkc.edu")
	host, port, _ := strings.Cut(n.ready.WHOIS, ":")
	ask := func(q string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, whois, "-h", host, "-p", port, q).CombinedOutput()
		if err != nil {
			t.Fatalf("whois %s: %v\n%s", q, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct {
		query string
		want  []string
		not   []string
	}{
		{relayV4, []string{"kind:         relay\n", "prefix:       " + relayV4 + "/32\n", "registered:   yes", "ptr:          mx1.umkc.edu\n",
			"contact:      (withheld)@umkc.edu\n", "created:      20"}, []string{"postmaster@"}},
		{groupV4, []string{"kind:         relay group\n", "name:         " + groupName + "\n", "prefix:       " + groupV4Net + "\n",
			"prefix:       " + groupV6Net + "\n", "contact:      (withheld)@umkc.edu\n", "delegation:   " + groupV4Net + " to ns1.umkc.edu ns2.umkc.edu since 20"},
			[]string{"hostmaster@"}},
		{strings.ToUpper(groupName), []string{"name:         " + groupName + "\n"}, nil},
		{groupV6, []string{"name:         " + groupName + "\n"}, nil},
		{otherV4, []string{"registered:   no\n"}, []string{"contact:"}},
		{"203.0.113.1", []string{"% no relay entity for 203.0.113.1\n"}, []string{"entity:"}},
		{"not a name!", []string{"% not an IP address or a relay group name\n"}, nil},
	} {
		got := strings.ReplaceAll(ask(tc.query), "\r\n", "\n")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("whois %s lacks %q:\n%s", tc.query, w, got)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("whois %s shows %q:\n%s", tc.query, w, got)
			}
		}
	}
	if v := nodeMetric(t, n, `wlns_whois_queries_total{result="found"}`); v != 5 {
		t.Errorf("wlns_whois_queries_total{result=\"found\"} = %v, want 5", v)
	}
}

// TestWhois_OffByDefault: without --whois no WHOIS listener exists.
func TestWhois_OffByDefault(t *testing.T) {
	n := startNode(t, "")
	if n.ready.WHOIS != "" {
		t.Errorf("WHOIS listens on %s without --whois", n.ready.WHOIS)
	}
}
