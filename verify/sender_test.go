package verify

import (
	"strings"
	"testing"
)

func TestChallengeable_NeverChallengesRobotsAndReturnPaths(t *testing.T) {
	cases := []struct {
		sender string
		ok     bool
	}{
		{"alice@example.com", true},
		{"Alice.Smith@Example.COM", true},
		{"alice+news@example.com", true},
		{"bob-2@example.com", true},
		{"team.lead@example.com", true},
		{"", false},
		{"<>", false},
		{"example.com", false},
		{"@example.com", false},
		{"alice", false},
		// Postfix's internal (unquoted) form of quoted local parts: the
		// challenge goes out quoted (record.Mailbox), which relays take.
		{"not an address@example.com", true},
		{"x<script>@example.com", true},
		{"a(comment)@example.com", true},
		{"a..b@example.com", true},
		{"user@[192.0.2.1]", true},
		{"jose@bücher.example", true},
		{"a\r\nBcc: x@y@example.com", false},
		{"o'brien@example.com", true},
		{`"john doe"@example.com`, true},
		{"postmaster@example.com", false},
		{"PostMaster@example.com", false},
		{"MAILER-DAEMON@example.com", false},
		{"abuse@example.com", false},
		{"noreply@example.com", false},
		{"no-reply@example.com", false},
		{"do-not-reply@example.com", false},
		{"bounce@example.com", false},
		{"bounces@example.com", false},
		{"bounces+alice=example.net@lists.example.com", false},
		{"owner-announce@example.com", false},
		{"announce-request@example.com", false},
		{"announce-owner@example.com", false},
		{"majordomo@example.com", false},
		{"listserv@example.com", false},
		{"mailman@example.com", false},
		{"root@example.com", false},
		{"root+cron@example.com", false},
		{"prvs=1234abcd=alice@example.com", false},
		{"btv1==0123456789a==alice@example.com", false},
		{"SRS0=HHH=TT=example.net=alice@forwarder.example", false},
		{"srs1=xxx=example.net==hhh=tt=example.org=alice@forwarder.example", false},
		{"list-bounce+bob=example.net@lists.example.com", false},
		{"news+3f9a2c81d4@example.com", false},
		{"msg-20240115123456@example.com", false},
		{"bounce-1234-5678@example.com", false},
		{"info@example.com", false},
		{"Info+sales@example.com", false},
		{"admin@example.com", false},
		{"webmaster@example.com", false},
		{"notifications@example.com", false},
		{"no_reply@example.com", false},
		{"noreply-billing@example.com", false},
		{"billing.noreply@example.com", false},
		{"DoNotReply@example.com", false},
		{"alice@localhost", false},
		{"alice@mail.localhost", false},
		{"alice@host.invalid", false},
		{"information@example.com", true},
		{"norelpy.fan@example.com", true},
		{"alice@localhost.example.com", true},
	}
	for _, c := range cases {
		t.Run(c.sender, func(t *testing.T) {
			addr, reason := challengeable(c.sender, neverSet(DefaultNeverChallenge))
			if got := reason == ""; got != c.ok {
				t.Fatalf("Challengeable(%q) = %q, %q; want challengeable %v", c.sender, addr, reason, c.ok)
			}
		})
	}
}

func TestChallengeable_NormalisesCase(t *testing.T) {
	addr, reason := challengeable(" <Alice@Example.COM> ", nil)
	if reason != "" || addr != "alice@example.com" {
		t.Fatalf("got %q, %q; want alice@example.com", addr, reason)
	}
}

// The role list is configurable: a node that challenges info@ (a small
// business mailing from it) drops it; another adds its own robots.
func TestChallengeable_NeverChallengeIsConfigurable(t *testing.T) {
	none := neverSet(nil)
	if _, r := challengeable("info@example.com", none); r != "" {
		t.Fatalf("info@ with an empty list: %s", r)
	}
	if _, r := challengeable("postmaster@example.com", none); r == "" {
		t.Fatal("postmaster@ challengeable with an empty list: the built-in rules stay")
	}
	if _, r := challengeable("Alerts+x@example.com", neverSet([]string{" Alerts "})); r == "" {
		t.Fatal("a configured role address is challengeable")
	}
	e := newEnv(t, func(c *Config) { c.NeverChallenge = []string{} })
	if o := e.request("info@example.com", groupIP); o.Result != Sent {
		t.Fatalf("info@ with NeverChallenge empty: %+v", o)
	}
	if o := newEnv(t).request("info@example.com", groupIP); o.Result != Refused || !o.Unchallengeable || !strings.Contains(o.Reason, "role address") {
		t.Fatalf("info@ with the default list: %+v", o)
	}
}
