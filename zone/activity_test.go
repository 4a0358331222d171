package zone

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/activity"
)

// TestResponder_CountsAnswersPerEntity: every positive answer counts once
// for the entity it answered through; a miss, NODATA for another type and
// the RFC 5782 test entry count nothing, and counting allocates nothing.
func TestResponder_CountsAnswersPerEntity(t *testing.T) {
	now := time.Now()
	answers := activity.New(now, 16)
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60, Answers: answers,
		NS: []string{"ns1.example.net."}, Hostmaster: "hostmaster@wl.example.org", Now: new(atomic.Int64)})
	if err != nil {
		t.Fatal(err)
	}
	v := fixture(t).Load()
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"4.2.0.192.relay.wl.example.org.", dns.TypeA},                  // group 1
		{"dave.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeTXT}, // group 1
		{"lists.example.net.4.2.0.192.verp.wl.example.org.", dns.TypeANY},
		{"bob.umkc.edu.77.2.0.192.sender.wl.example.org.", dns.TypeA}, // lone 2
		{"9.100.51.198.relay.wl.example.org.", dns.TypeA},             // lone 3
		{"x.y.org.9.100.51.198.sender.wl.example.org.", dns.TypeA},    // lone 3
		{"nobody.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeA},
		{"4.2.0.192.relay.wl.example.org.", dns.TypeMX},
		{"2.0.0.127.relay.wl.example.org.", dns.TypeA},
	} {
		ask(t, r, v, q.name, q.qtype)
	}
	for _, c := range []struct {
		id   uint64
		want uint64
	}{{1, 3}, {2, 1}, {3, 2}, {0, 0}} {
		if got := answers.Sum(now, []uint64{c.id}, false)[activity.Days-1]; got != c.want {
			t.Errorf("entity %d: %d answers counted, want %d", c.id, got, c.want)
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("dave.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeA)
	req, _ := q.Pack()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { r.Respond(buf, req, v, 1232) }); n != 0 {
		t.Errorf("a counted answer allocates %v times", n)
	}
}
