package systest

import (
	"syscall"
	"testing"

	"github.com/miekg/dns"
)

// persisted is what a restarted node must still answer.
func persistedQueries(t *testing.T) []query {
	return []query{
		{relayName(t, relayV4), dns.TypeA, listedA(codeRelay)},
		{relayName(t, relayV6), dns.TypeA, listedA(codeRelay)},
		{relayName(t, groupV4b), dns.TypeA, listedA(codeRelay)},
		{senderName(t, "dave.umkc.edu", relayV4), dns.TypeA, listedA(codeSender)},
		{senderName(t, "first.last.umkc.edu", relayV4), dns.TypeA, listedA(codeSender)},
		{senderName(t, "anyone.bigcorp.example", relayV4), dns.TypeA, listedA(codeDomain)},
		{senderName(t, "carol.umkc.edu", groupV6), dns.TypeA, listedA(codeSender)},
		{verpName(t, verpDomain, relayV4), dns.TypeA, listedA(codeVerp)},
		{relayName(t, otherV4), dns.TypeA, nxdomain},
	}
}

func TestNode_DataSurvivesRestart(t *testing.T) {
	clients := []dnsClient{{"miekg/udp", miekgAsk("udp")}, {"miekg/tcp", miekgAsk("tcp")}}
	f := newFixture(t)
	dataDir := f.dataDir
	checkAll(t, f.ready.DNSUDP, clients, persistedQueries(t))

	tests := []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGKILL", syscall.SIGKILL},
	}
	n := f.node
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := n.stop(tt.sig)
			if tt.sig == syscall.SIGTERM && err != nil {
				t.Errorf("wlns serve did not exit cleanly on SIGTERM: %v\n%s", err, n.logTail())
			}
			n = startNode(t, dataDir)
			checkAll(t, n.ready.DNSUDP, clients, persistedQueries(t))
			// The restarted node still takes writes.
			n.mustCLI("pair", "add", "after-"+tt.name+"@umkc.edu", relayV4)
			check(t, clients, n.ready.DNSUDP, senderName(t, "after-"+tt.name+".umkc.edu", relayV4), dns.TypeA, listedA(codeSender))
		})
	}
}
