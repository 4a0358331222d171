package systest

import (
	"testing"
)

// TestPostfix_ListedSenderPassesWhateverItsSpelling: senders whose local
// part DNS presentation escapes differently (o'brien comes back from
// miekg/dns as o\'brien, $ bare where wlns writes \$) are listed, and a
// real Postfix asking a real `wlns policy` accepts their mail at RCPT.
// Before the policy service compared names in wire form, both stayed at
// 451 forever although `wlns check` said listed.
func TestPostfix_ListedSenderPassesWhateverItsSpelling(t *testing.T) {
	postfix, swaks, unshare := needPostfix(t)
	n := startRelayNode(t)
	p := startPolicy(t, n)
	port := freeTCPPort(t)
	startPostfix(t, postfix, unshare, []smtpdListener{{port: port, policy: p.addr}}, "")

	for _, sender := range []string{"o'brien@irish.example", "a$b@irish.example", "x&y=z{1}@irish.example"} {
		t.Run(sender, func(t *testing.T) {
			n.mustCLI("pair", "add", sender, relayIP)
			mustContain(t, runSwaks(t, swaks, port, sender, true), "<-  250 2.1.5 Ok")
		})
	}
	if v := p.metric(t, `wlns_policy_decisions_total{decision="defer"}`); v != 0 {
		t.Errorf("%v deferrals of listed senders, want 0; policy log:\n%s", v, p.logText())
	}
	// The readable names of first.last@sa.example and first@last.sa.example
	// are the same when the dot is not escaped, and the server tries every
	// split; the policy service asks the hashed form, which names one
	// address, so only the listed one passes. A domain-wide entry still
	// passes every address of its domain.
	t.Run("another split of a listed address is deferred", func(t *testing.T) {
		n.mustCLI("pair", "add", "first.last@sa.example", relayIP)
		mustContain(t, runSwaks(t, swaks, port, "first.last@sa.example", true), "<-  250 2.1.5 Ok")
		mustContain(t, runSwaks(t, swaks, port, "first@last.sa.example", true), "<** 451 4.7.1")
	})
	t.Run("domain-wide entry passes any address of the domain", func(t *testing.T) {
		n.mustCLI("pair", "add", "@whole.example", relayIP)
		mustContain(t, runSwaks(t, swaks, port, "anyone.at.all@whole.example", true), "<-  250 2.1.5 Ok")
	})
}
