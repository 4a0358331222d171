package verify

import "testing"

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
		{"not an address@example.com", false},
		{"a\r\nBcc: x@y@example.com", false},
		{"x<script>@example.com", false},
		{"a(comment)@example.com", false},
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
	}
	for _, c := range cases {
		t.Run(c.sender, func(t *testing.T) {
			addr, reason := Challengeable(c.sender)
			if got := reason == ""; got != c.ok {
				t.Fatalf("Challengeable(%q) = %q, %q; want challengeable %v", c.sender, addr, reason, c.ok)
			}
		})
	}
}

func TestChallengeable_NormalisesCase(t *testing.T) {
	addr, reason := Challengeable(" <Alice@Example.COM> ")
	if reason != "" || addr != "alice@example.com" {
		t.Fatalf("got %q, %q; want alice@example.com", addr, reason)
	}
}
