package systest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// floodSources is how many addresses of the flood's /24 (10.77.1.0/24)
// send, as a spoofed flood arrives from many addresses of one network.
const floodSources = 40

// floodRate is the flood's queries per second, bounded so that two shared
// cores still run five nodes, the WAN and the campaign beside it.
const floodRate = 400

// flooder sends a DNS flood (ANY for one listed name, with EDNS) from a
// namespace of its own, 10.77.1.0/24: another /24 than the campaign's
// probers in the hub (10.77.0.254), so response rate limiting treats it as
// one abusive network and the probers as a resolver elsewhere. It counts
// the bytes that went out and came back, the amplification RRL must deny.
type flooder struct {
	conns []*net.UDPConn // one per source address, in the flood namespace
	req   []byte

	mu     sync.Mutex // one flood at a time
	floods int

	sent, sentBytes, recvBytes, full, truncated atomic.Int64
}

// newFlooder makes the flood namespace, wires it to the hub and to every
// node's namespace, and opens its sockets.
func newFlooder(t *testing.T, lab *netLab, qname string) *flooder {
	t.Helper()
	ns := lab.prefix + "-flood"
	lab.ip("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Logf("removing namespace %s: %v: %s", ns, err, out)
		}
	})
	lab.ip("-n", lab.hub, "link", "add", "hf", "type", "veth", "peer", "name", "eth0", "netns", ns)
	script := "ip link set lo up && ip addr add 10.77.1.1/24 dev eth0"
	for k := 2; k <= floodSources; k++ {
		script += fmt.Sprintf(" && ip addr add 10.77.1.%d/32 dev eth0", k)
	}
	lab.sh(ns, script+" && ip link set eth0 up && ip route add 10.77.0.0/24 dev eth0")
	lab.sh(lab.hub, "ip link set hf up && ip route add 10.77.1.0/24 dev hf"+
		" && echo 1 > /proc/sys/net/ipv4/conf/hf/proxy_arp && echo 0 > /proc/sys/net/ipv4/conf/hf/rp_filter")
	for _, n := range lab.nodes {
		lab.sh(n, "ip route add 10.77.1.0/24 dev eth0")
	}
	h, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		t.Fatalf("opening the flood namespace: %v", err)
	}
	defer h.Close()
	f := &flooder{}
	err = inNetns(h, func() error {
		for k := 1; k <= floodSources; k++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(10, 77, 1, byte(k))})
			if err != nil {
				return fmt.Errorf("a socket on 10.77.1.%d: %w", k, err)
			}
			f.conns = append(f.conns, c)
		}
		return nil
	})
	t.Cleanup(func() {
		for _, c := range f.conns {
			c.Close()
		}
	})
	if err != nil {
		t.Fatalf("flood sockets: %v", err)
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), dns.TypeANY)
	q.SetEdns0(4096, false)
	if f.req, err = q.Pack(); err != nil {
		t.Fatal(err)
	}
	return f
}

// flood sends floodRate queries a second to n's DNS for hold, round robin
// over the source addresses, and counts what comes back until a second
// after the last query.
func (f *flooder) flood(n *nsNode, hold time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.floods++
	to := &net.UDPAddr{IP: net.ParseIP(nsAddr(n.i)), Port: 5300}
	end := time.Now().Add(hold)
	var wg sync.WaitGroup
	for _, c := range f.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.receive(c, end.Add(time.Second))
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	k := 0
	for now := range tick.C {
		if now.After(end) {
			break
		}
		for range floodRate / 100 {
			c := f.conns[k%len(f.conns)]
			k++
			if _, err := c.WriteToUDP(f.req, to); err == nil {
				f.sent.Add(1)
				f.sentBytes.Add(int64(len(f.req)))
			}
		}
	}
	wg.Wait()
}

// receive counts the answers c gets until the deadline.
func (f *flooder) receive(c *net.UDPConn, deadline time.Time) {
	buf := make([]byte, 65535)
	_ = c.SetReadDeadline(deadline)
	for {
		k, err := c.Read(buf)
		if err != nil {
			return // the deadline, or the socket closed at cleanup
		}
		f.recvBytes.Add(int64(k))
		m := new(dns.Msg)
		switch {
		case m.Unpack(buf[:k]) != nil:
		case m.Truncated:
			f.truncated.Add(1)
		default:
			f.full.Add(1)
		}
	}
}

// String is the flood's tally for the test log.
func (f *flooder) String() string {
	return fmt.Sprintf("%d floods: %d queries (%d bytes) sent, %d bytes back: %d full answers, %d truncated (slip)",
		f.floods, f.sent.Load(), f.sentBytes.Load(), f.recvBytes.Load(), f.full.Load(), f.truncated.Load())
}

// check fails the test when the flood was amplified (more bytes back than
// sent) or RRL never slipped a truncated answer.
func (f *flooder) check(t *testing.T) {
	t.Helper()
	if f.sent.Load() == 0 {
		t.Error("the schedule sent no flood")
		return
	}
	if f.recvBytes.Load() > f.sentBytes.Load() || f.truncated.Load() == 0 {
		t.Errorf("flood with RRL on: %v; want no more bytes back than sent and some truncated answers", f)
	}
}
