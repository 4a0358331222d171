package policy

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// fakeDNS is an in-test whitelist server on 127.0.0.1 (UDP and TCP on one
// port): names in listed answer with their code, anything else NXDOMAIN
// with an SOA. It counts the questions per name and transport.
type fakeDNS struct {
	addr string
	// drop makes it swallow every question (a dead whitelist).
	drop atomic.Bool
	// truncate makes every UDP reply empty with TC set.
	truncate atomic.Bool
	// servfail answers SERVFAIL.
	servfail atomic.Bool
	// listAll answers every sender-zone question 127.0.2.2, with the owner
	// name as miekg/dns writes the question it read (its own escapes).
	listAll atomic.Bool
	// noRD is set by any question that does not ask for recursion.
	noRD atomic.Bool
	// posTTL and negTTL are the TTLs it gives (SOA minimum = negTTL).
	posTTL, negTTL uint32

	mu      sync.Mutex
	listed  map[string]netip.Addr
	queries map[string]int // by "udp name" / "tcp name"
}

func startFakeDNS(t testing.TB) *fakeDNS {
	t.Helper()
	f := &fakeDNS{posTTL: 300, negTTL: 60, listed: map[string]netip.Addr{}, queries: map[string]int{}}
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatalf("fake DNS: %v", err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatalf("fake DNS: no port free for both UDP and TCP: %v", err)
		}
	}
	f.addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve("udp"))}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(f.serve("tcp"))}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return f
}

// list makes name answer code.
func (f *fakeDNS) list(name, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listed[dns.CanonicalName(name)] = netip.MustParseAddr(code)
}

// asked is how often name was asked over net ("udp" or "tcp").
func (f *fakeDNS) asked(network, name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[network+" "+dns.CanonicalName(name)]
}

// total is how many questions arrived at all.
func (f *fakeDNS) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.queries {
		n += c
	}
	return n
}

func (f *fakeDNS) serve(network string) func(dns.ResponseWriter, *dns.Msg) {
	return func(w dns.ResponseWriter, q *dns.Msg) {
		name := strings.ToLower(q.Question[0].Name)
		f.mu.Lock()
		f.queries[network+" "+name]++
		code, ok := f.listed[name]
		f.mu.Unlock()
		if !q.RecursionDesired {
			f.noRD.Store(true)
		}
		if f.listAll.Load() && strings.Contains(name, ".sender.") {
			code, ok = netip.MustParseAddr("127.0.2.2"), true
		}
		if f.drop.Load() {
			return
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		switch {
		case f.servfail.Load():
			m.Rcode = dns.RcodeServerFailure
		case network == "udp" && f.truncate.Load():
			m.Truncated = true
		case ok:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA,
				Class: dns.ClassINET, Ttl: f.posTTL}, A: code.AsSlice()})
		default:
			m.Rcode = dns.RcodeNameError
			m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "wl.test.", Rrtype: dns.TypeSOA,
				Class: dns.ClassINET, Ttl: f.negTTL}, Ns: "ns.wl.test.", Mbox: "hostmaster.wl.test.",
				Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: f.negTTL})
		}
		_ = w.WriteMsg(m)
	}
}
