package zone

import (
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

func TestRespond_WithdrawnRefusesUntilCleared(t *testing.T) {
	var withdrawn atomic.Bool
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60,
		NS: []string{"ns1.example.net."}, Hostmaster: "hostmaster@wl.example.org", Withdrawn: &withdrawn})
	if err != nil {
		t.Fatal(err)
	}
	v := fixture(t).Load()
	const listed = "2.0.0.127.relay.wl.example.org." // the RFC 5782 test entry
	steps := []struct {
		name      string
		withdrawn bool
		rcode     int
		answers   int
	}{
		{"serving", false, dns.RcodeSuccess, 1},
		{"withdrawn", true, dns.RcodeRefused, 0},
		{"serving again", false, dns.RcodeSuccess, 1},
	}
	for _, st := range steps {
		withdrawn.Store(st.withdrawn)
		m := ask(t, r, v, listed, dns.TypeA)
		if m.Rcode != st.rcode || len(m.Answer) != st.answers {
			t.Fatalf("%s: rcode %s with %d answers, want %s with %d\n%v", st.name,
				dns.RcodeToString[m.Rcode], len(m.Answer), dns.RcodeToString[st.rcode], st.answers, m)
		}
		if len(m.Question) != 1 || m.Question[0].Name != listed {
			t.Fatalf("%s: question not echoed: %v", st.name, m.Question)
		}
		if st.withdrawn && m.Authoritative {
			t.Fatalf("%s: a refusal claims authority", st.name)
		}
	}
}
