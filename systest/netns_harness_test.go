package systest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The network-namespace harness. Each node runs in its own namespace with one
// veth ("eth0", 10.77.0.N/24) whose other end sits in a hub namespace. The
// brief asks for a bridge and `tc netem`, but this kernel (and many CI
// kernels) has neither sch_netem nor tc classifiers, so the hub routes
// instead of bridging: every packet a node sends arrives on its veth in the
// hub, a policy rule sends it to a TUN device, and the test process (the
// "WAN", below) reads it there, drops it or holds it for the delay, and
// writes it back; the hub then routes it to the destination's veth. That
// gives per-packet delay, jitter and loss like netem, and partitions by
// dropping packets between the two sides, without iptables or tc.
//
// The test itself talks to the nodes from the hub namespace (10.77.0.254):
// its sockets are created on a thread switched into the hub with setns(2).
// Traffic between the test and a node crosses the WAN too but is never
// delayed, dropped or partitioned: the DNS probes and API writes measure the
// nodes, not the injected loss.

// hubAddr is the test's own address inside the hub namespace.
const hubAddr = "10.77.0.254"

// nsAddr is the address of node i (1-based).
func nsAddr(i int) string { return fmt.Sprintf("10.77.0.%d", i) }

// netLab is a set of namespaces made for one test, removed at cleanup.
type netLab struct {
	t      *testing.T
	prefix string // unique per run: wlns-<hex>
	hub    string
	nodes  []string // namespace of node i+1
	hubNS  *os.File // open handle of the hub namespace, for setns
	wan    *wan
	http   *http.Client // reaches the nodes' APIs from the hub
}

// newNetLab makes the hub and size node namespaces, wires them and starts
// the WAN emulator with the given one-way delay, jitter and loss. Leftovers
// of a killed earlier run do not clash: names carry a random part.
func newNetLab(t *testing.T, size int, delay, jitter time.Duration, loss float64) *netLab {
	t.Helper()
	var rb [3]byte
	if _, err := rand.Read(rb[:]); err != nil {
		t.Fatal(err)
	}
	l := &netLab{t: t, prefix: "wlns-" + hex.EncodeToString(rb[:])}
	l.http = l.client()
	l.hub = l.prefix + "-hub"
	t.Cleanup(l.cleanup)
	l.ip("netns", "add", l.hub)
	l.sh(l.hub, "ip link set lo up && ip addr add "+hubAddr+"/32 dev lo"+
		" && echo 1 > /proc/sys/net/ipv4/ip_forward"+
		" && echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter && echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter")
	f, err := os.Open("/var/run/netns/" + l.hub)
	if err != nil {
		t.Fatalf("opening the hub namespace: %v", err)
	}
	l.hubNS = f
	tun, err := l.openTUN("wan0")
	if err != nil {
		t.Fatalf("making the WAN TUN device: %v", err)
	}
	l.wan = newWAN(tun, delay, jitter, loss)
	go l.wan.run()
	l.sh(l.hub, "ip link set wan0 up && echo 0 > /proc/sys/net/ipv4/conf/wan0/rp_filter"+
		" && ip route add default dev wan0 table 100 && ip rule add iif wan0 lookup main pref 100")
	for i := 1; i <= size; i++ {
		ns := fmt.Sprintf("%s-n%d", l.prefix, i)
		l.ip("netns", "add", ns)
		l.nodes = append(l.nodes, ns)
		veth := fmt.Sprintf("h%d", i)
		l.ip("-n", l.hub, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
		l.sh(ns, "ip link set lo up && ip addr add "+nsAddr(i)+"/24 dev eth0 && ip link set eth0 up")
		l.sh(l.hub, fmt.Sprintf("ip link set %[1]s up && ip route add %[2]s/32 dev %[1]s"+
			" && echo 1 > /proc/sys/net/ipv4/conf/%[1]s/proxy_arp && echo 0 > /proc/sys/net/ipv4/conf/%[1]s/rp_filter"+
			" && ip rule add iif %[1]s lookup 100 pref 200", veth, nsAddr(i)))
	}
	return l
}

// ip runs the ip command and fails the test on an error.
func (l *netLab) ip(args ...string) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// sh runs a shell script inside namespace ns.
func (l *netLab) sh(ns, script string) {
	l.t.Helper()
	l.ip("netns", "exec", ns, "sh", "-ec", script)
}

// cleanup stops the WAN and deletes every namespace of the lab (the node
// processes are killed by their own cleanups, registered later and so run
// earlier).
func (l *netLab) cleanup() {
	if l.wan != nil {
		l.wan.close()
	}
	if l.hubNS != nil {
		l.hubNS.Close()
	}
	for _, ns := range append(append([]string{}, l.nodes...), l.hub) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if out, err := exec.CommandContext(ctx, "ip", "netns", "del", ns).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
			l.t.Logf("removing namespace %s: %v: %s", ns, err, out)
		}
		cancel()
	}
}

// inHub runs f on an OS thread switched into the hub namespace, so sockets
// f creates live there. The thread is switched back before it is released.
func (l *netLab) inHub(f func() error) error { return inNetns(l.hubNS, f) }

// inNetns runs f on an OS thread switched into the network namespace ns
// (an open handle of it), switched back before the thread is released.
func inNetns(ns *os.File, f func() error) error {
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("opening this thread's namespace: %w", err)
	}
	defer self.Close()
	if err := setns(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", ns.Name(), err)
	}
	ferr := f()
	if err := setns(self); err != nil {
		// The thread stays locked and dies with the goroutine, so no other
		// goroutine ever runs in the wrong namespace.
		return fmt.Errorf("leaving namespace %s: %w", ns.Name(), err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// setns switches the calling thread into the network namespace ns.
func setns(ns *os.File) error {
	return unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
}

// dial opens a connection from the hub namespace.
func (l *netLab) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := l.inHub(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// listen opens a listener in the hub namespace.
func (l *netLab) listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := l.inHub(func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// openTUN creates TUN device name in the hub namespace and returns it
// non-blocking, so closing it ends a pending read.
func (l *netLab) openTUN(name string) (*os.File, error) {
	var f *os.File
	err := l.inHub(func() error {
		fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening /dev/net/tun: %w", err)
		}
		req, err := unix.NewIfreq(name)
		if err != nil {
			syscall.Close(fd)
			return fmt.Errorf("TUN device name %q: %w", name, err)
		}
		req.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, req); err != nil {
			syscall.Close(fd)
			return fmt.Errorf("TUNSETIFF %s: %w", name, err)
		}
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fd)
			return err
		}
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	return f, err
}

// wan forwards the packets of the hub's TUN device with delay, jitter and
// loss between nodes, and drops those that cross a partition.
type wan struct {
	tun           *os.File
	delay, jitter time.Duration
	loss          float64

	mu      sync.Mutex
	side    map[netip.Addr]int // partition side of a node address; none: no partition
	rng     *mrand.Rand
	wg      sync.WaitGroup // packets held for their delay
	stopped chan struct{}  // closed when run returns

	forwarded, lost, cut atomic.Int64
}

func newWAN(tun *os.File, delay, jitter time.Duration, loss float64) *wan {
	seed, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	return &wan{tun: tun, delay: delay, jitter: jitter, loss: loss,
		rng: mrand.New(mrand.NewPCG(seed.Uint64(), 7)), stopped: make(chan struct{})}
}

// partition puts the given node addresses on side 1 and every other node on
// side 2; packets between the sides are dropped until heal.
func (w *wan) partition(minority ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.side = map[netip.Addr]int{}
	for i := 1; i <= 253; i++ {
		w.side[netip.MustParseAddr(nsAddr(i))] = 2
	}
	for _, a := range minority {
		w.side[netip.MustParseAddr(a)] = 1
	}
}

// heal ends the partition.
func (w *wan) heal() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.side = nil
}

// verdict decides a packet's fate: dropped, or forwarded after a delay.
func (w *wan) verdict(pkt []byte) (time.Duration, bool) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return 0, false // only IPv4 is routed here
	}
	src, dst := netip.AddrFrom4([4]byte(pkt[12:16])), netip.AddrFrom4([4]byte(pkt[16:20]))
	if src.String() == hubAddr || dst.String() == hubAddr {
		return 0, true // the test's own probes and writes
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.side != nil && w.side[src] != w.side[dst] {
		w.cut.Add(1)
		return 0, false
	}
	if w.rng.Float64() < w.loss {
		w.lost.Add(1)
		return 0, false
	}
	d := w.delay
	if w.jitter > 0 {
		d += time.Duration(w.rng.Int64N(int64(2*w.jitter))) - w.jitter
	}
	return d, true
}

// run forwards packets until the device is closed.
func (w *wan) run() {
	defer close(w.stopped)
	buf := make([]byte, 65536)
	for {
		n, err := w.tun.Read(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		d, ok := w.verdict(pkt)
		if !ok {
			continue
		}
		w.forwarded.Add(1)
		if d <= 0 {
			_, _ = w.tun.Write(pkt)
			continue
		}
		w.wg.Add(1)
		time.AfterFunc(d, func() {
			defer w.wg.Done()
			_, _ = w.tun.Write(pkt)
		})
	}
}

// close stops forwarding and waits for the packets still held (their
// writes fail on the closed device).
func (w *wan) close() {
	w.tun.Close()
	<-w.stopped
	w.wg.Wait()
}

// String summarises what the WAN did, for the test log.
func (w *wan) String() string {
	return fmt.Sprintf("forwarded %d, lost %d (random), cut %d (partition)", w.forwarded.Load(), w.lost.Load(), w.cut.Load())
}
