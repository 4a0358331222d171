package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// latency summarises the DNS probes of one window. Two clocks time each
// answer: the prober's (send → the prober has read and checked the
// answer), which includes any wait of the prober for a CPU, and the
// kernel's (send → the answer reached the prober's socket, SO_TIMESTAMPNS),
// which a stalled prober does not inflate: the node's figure.
type latency struct {
	Probes  int     `json:"probes"`  // ticks in the window (a stalled prober misses some)
	Skipped int     `json:"skipped"` // due with all 64 slots busy: never sent
	Lost    int     `json:"lost"`    // no answer within 1 s, or a socket error
	Wrong   int     `json:"wrong"`   // answered, but not as the sample says
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
	// The kernel's receive timestamp − send: the node's latency.
	NodeP50Ms float64 `json:"node_p50_ms"`
	NodeP99Ms float64 `json:"node_p99_ms"`
	NodeMaxMs float64 `json:"node_max_ms"`
}

// tally collects one window's probes.
type tally struct {
	mu                   sync.Mutex
	took, node           []time.Duration
	skipped, lost, wrong int
}

// probe asks addr for the samples in turn, rate per second, until ctx
// ends, and summarises the answers' latency. At most 64 probes are in
// flight; a probe that finds no slot is skipped (counted, never sent).
func probe(ctx context.Context, addr string, ss []sample, rate int) latency {
	var (
		t  tally
		wg sync.WaitGroup
	)
	slots := make(chan struct{}, 64)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return t.summarise()
		case <-tick.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			t.mu.Lock()
			t.skipped++
			t.mu.Unlock()
			continue
		}
		s := ss[i%len(ss)]
		wg.Go(func() {
			defer func() { <-slots }()
			start := time.Now()
			m, node, err := askStamped(addr, s.qname)
			d := time.Since(start)
			bad := err == nil && s.judge(m, nil) != ""
			t.mu.Lock()
			defer t.mu.Unlock()
			switch {
			case err != nil:
				t.lost++
			case bad:
				t.wrong++
			default:
				t.took = append(t.took, d)
				t.node = append(t.node, node)
			}
		})
	}
}

// askStamped asks addr for qname's A record over a socket of its own with
// SO_TIMESTAMPNS, and returns the answer and how long after the send the
// kernel received it.
func askStamped(addr, qname string) (*dns.Msg, time.Duration, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), dns.TypeA)
	q.RecursionDesired = false
	wire, err := q.Pack()
	if err != nil {
		return nil, 0, fmt.Errorf("packing the query for %s: %w", qname, err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, 0, fmt.Errorf("dialling %s: %w", addr, err)
	}
	conn := c.(*net.UDPConn)
	defer conn.Close()
	if err := stampReceives(conn); err != nil {
		return nil, 0, err
	}
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return nil, 0, err
	}
	sent := time.Now()
	if _, err := conn.Write(wire); err != nil {
		return nil, 0, fmt.Errorf("asking %s for %s: %w", addr, qname, err)
	}
	buf, oob := make([]byte, 1500), make([]byte, 128)
	for {
		n, oobn, _, _, err := conn.ReadMsgUDP(buf, oob)
		if err != nil {
			return nil, 0, fmt.Errorf("asking %s for %s: %w", addr, qname, err)
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil || m.Id != q.Id {
			continue
		}
		at, err := kernelStamp(oob[:oobn])
		if err != nil {
			return nil, 0, fmt.Errorf("the answer for %s: %w", qname, err)
		}
		return m, at.Sub(sent), nil
	}
}

// stampReceives asks the kernel to timestamp each datagram conn receives.
func stampReceives(conn *net.UDPConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("setting SO_TIMESTAMPNS: %w", serr)
	}
	return nil
}

// kernelStamp reads the SCM_TIMESTAMPNS receive time out of oob.
func kernelStamp(oob []byte) (time.Time, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading its control messages: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			// struct timespec on 64-bit Linux: seconds, nanoseconds.
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec), nil
		}
	}
	return time.Time{}, fmt.Errorf("no SCM_TIMESTAMPNS among %d control messages", len(msgs))
}

func (t *tally) summarise() latency {
	l := latency{Probes: len(t.took) + t.skipped + t.lost + t.wrong, Skipped: t.skipped, Lost: t.lost, Wrong: t.wrong}
	l.P50Ms, l.P99Ms, l.MaxMs = percentiles(t.took)
	l.NodeP50Ms, l.NodeP99Ms, l.NodeMaxMs = percentiles(t.node)
	return l
}

// percentiles returns the p50, p99 and max of ds in milliseconds.
func percentiles(ds []time.Duration) (p50, p99, top float64) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(ds))+0.5), len(ds)) - 1
		return float64(ds[max(i, 0)].Microseconds()) / 1000
	}
	return at(0.50), at(0.99), at(1)
}
