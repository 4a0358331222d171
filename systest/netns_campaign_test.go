package systest

import (
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The campaign: while the netns test partitions, kills and restarts nodes,
// one writer per node sends unique pairs to that node's API and one prober
// per node asks that node's DNS for names already acknowledged.
//
// What counts as a DNS failure: no answer within 2 s, any rcode other than
// NOERROR or NXDOMAIN (SERVFAIL, REFUSED, ...), or NOERROR without exactly
// the sender code. NXDOMAIN for an acknowledged name is replication lag (the
// node has not applied it yet, e.g. it sits on the other side of a
// partition) and is counted apart; the final sweep after healing demands
// every name on every node. An NXDOMAIN/NODATA for a name the node itself
// had answered as listed is no lag but a failure ("forgot"). A node is
// probed only while it runs: from its
// kill until it first answers after the restart it is not "live" (the time
// to that first answer is reported). A node restarted after a crash holds
// only its last snapshot until it has replayed its log through a leader;
// meanwhile it withdraws (answers REFUSED, and /readyz says why) so that
// resolvers ask another mirror instead of getting "not listed" for names it
// had answered: those REFUSED answers, before its first real answer, are
// counted as "withdrawn", not as failures. A REFUSED once it is live is a
// failure.

// outcome is what a write got from the API.
type outcome int

const (
	failed  outcome = iota // no 2xx after the retries; may or may not be applied
	acked                  // 200/201: committed
	spooled                // 202 "spooled": pending until a quorum is back
)

// writeRec is one write of the campaign.
type writeRec struct {
	sender   string
	node     int
	minority bool // the node sat on the minority side when the write began
	// (without a spool, a write that began there may still be acked by a
	// retry after the heal)
	outcome outcome
	last    string // last status or error, for the report
}

// probeCount is one node's DNS tally: forgot counts the lag answers for a
// name the same node had already answered as listed (a restarted node that
// answers from less than it had), which are also failures.
type probeCount struct{ ok, lag, forgot, fail, withdrawn int }

// nodeState is the campaign's view of one node.
type nodeState struct {
	down      bool // killed, not restarted yet
	live      bool // answers DNS (false after a restart until it first does)
	minority  bool
	gen       int // bumped on kill and restart: in-flight probes of an old process are dropped
	restarted time.Time
	firstDNS  time.Duration // restart to first DNS answer
}

type campaign struct {
	lab    *netLab
	ip     string
	suffix string // ".<rev-ip>.sender.<apex>"
	tokens []string

	mu      sync.Mutex
	writes  []writeRec
	ackedQ  []string // query names of acked writes
	state   []nodeState
	probes  []probeCount
	seen    []map[string]bool // per node: names it answered as listed
	samples []string          // the first DNS failures, for the report

	stop chan struct{}
	wg   sync.WaitGroup
}

func newCampaign(t *testing.T, lab *netLab, nodes []*nsNode, ip string) *campaign {
	c := &campaign{lab: lab, ip: ip, suffix: "." + rev(t, ip) + ".sender." + apex,
		state: make([]nodeState, len(nodes)), probes: make([]probeCount, len(nodes)), stop: make(chan struct{})}
	for i, n := range nodes {
		c.tokens = append(c.tokens, n.token)
		c.state[i].live = true
		c.seen = append(c.seen, map[string]bool{})
	}
	return c
}

// start runs the writers and probers until finish.
func (c *campaign) start() {
	for i := range c.state {
		c.wg.Add(2)
		go c.writer(i + 1)
		go c.prober(i + 1)
	}
}

// finish stops every writer and prober and waits for them.
func (c *campaign) finish() {
	close(c.stop)
	c.wg.Wait()
}

// sleep waits d or until finish; it reports whether to go on.
func (c *campaign) sleep(d time.Duration) bool {
	select {
	case <-c.stop:
		return false
	case <-time.After(d):
		return true
	}
}

// setMinority marks which nodes (1-based) sit on the minority side; none
// when healed.
func (c *campaign) setMinority(idx ...int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.state {
		c.state[i].minority = false
	}
	for _, i := range idx {
		c.state[i-1].minority = true
	}
}

// setDown marks node i killed (true) or just restarted (false).
func (c *campaign) setDown(i int, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.state[i-1]
	s.down, s.live = down, false
	s.gen++
	if !down {
		s.restarted = time.Now()
	}
}

// sinceRestart is the time since node i was last restarted.
func (c *campaign) sinceRestart(i int) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Since(c.state[i-1].restarted)
}

func (c *campaign) writer(i int) {
	defer c.wg.Done()
	for seq := 1; ; seq++ {
		c.mu.Lock()
		down, minority := c.state[i-1].down, c.state[i-1].minority
		c.mu.Unlock()
		if down {
			if !c.sleep(100 * time.Millisecond) {
				return
			}
			continue
		}
		rec := writeRec{sender: fmt.Sprintf("w%d-%d@example.org", i, seq), node: i, minority: minority}
		c.write(&rec)
		c.mu.Lock()
		c.writes = append(c.writes, rec)
		if rec.outcome == acked {
			c.ackedQ = append(c.ackedQ, fmt.Sprintf("w%d-%d.example.org%s", i, seq, c.suffix))
		}
		c.mu.Unlock()
		if !c.sleep(150 * time.Millisecond) {
			return
		}
	}
}

// write sends one pair, retrying with the same Idempotency-Key (at most
// three attempts) while the node answers 503 or not at all.
func (c *campaign) write(rec *writeRec) {
	base := "http://" + nsAddr(rec.node) + ":8053"
	hdr := map[string]string{"Idempotency-Key": "campaign-" + rec.sender}
	body := map[string]string{"sender": rec.sender, "ip": c.ip}
	for attempt := 1; attempt <= 3; attempt++ {
		code, b, err := doAPI(c.lab.http, base, c.tokens[rec.node-1], "POST", "/v1/pairs", body, hdr)
		switch {
		case err != nil:
			rec.last = err.Error()
		case code == http.StatusOK || code == http.StatusCreated:
			rec.outcome, rec.last = acked, fmt.Sprint(code)
			return
		case code == http.StatusAccepted:
			var a struct {
				Spooled bool `json:"spooled"`
			}
			rec.outcome, rec.last = spooled, fmt.Sprintf("%d %s", code, b)
			if json.Unmarshal(b, &a) != nil || !a.Spooled {
				rec.outcome = failed // a 202 must say it was spooled
			}
			return
		default:
			rec.last = fmt.Sprintf("%d %s", code, strings.TrimSpace(string(b)))
			if code != http.StatusServiceUnavailable {
				return
			}
		}
		c.mu.Lock()
		down := c.state[rec.node-1].down
		c.mu.Unlock()
		if down || !c.sleep(300*time.Millisecond) {
			return
		}
	}
}

// record adds writes made outside the writers (the soak's imports); the
// acknowledged ones join the names the probers ask.
func (c *campaign) record(recs []writeRec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range recs {
		c.writes = append(c.writes, w)
		if w.outcome == acked {
			c.ackedQ = append(c.ackedQ, strings.Replace(w.sender, "@", ".", 1)+c.suffix)
		}
	}
}

func (c *campaign) prober(i int) {
	defer c.wg.Done()
	rng := mrand.New(mrand.NewPCG(uint64(i), 99))
	n := &nsNode{lab: c.lab, i: i}
	for c.sleep(100 * time.Millisecond) {
		c.mu.Lock()
		s := c.state[i-1]
		var qname string
		if len(c.ackedQ) > 0 {
			qname = c.ackedQ[rng.IntN(len(c.ackedQ))]
		}
		c.mu.Unlock()
		if s.down || qname == "" {
			continue
		}
		m, err := n.query(qname, dns.TypeA, 2*time.Second)
		c.tally(i, s.gen, qname, m, err)
	}
}

// tally classifies one probe answer (see the comment at the top).
func (c *campaign) tally(i, gen int, qname string, m *dns.Msg, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.state[i-1]
	if s.gen != gen || s.down {
		return // asked a process that was killed meanwhile
	}
	p := &c.probes[i-1]
	if !s.live {
		if err != nil {
			return // restarted, not serving DNS yet
		}
		if m.Rcode == dns.RcodeRefused {
			p.withdrawn++ // restarted, replaying its log: sends resolvers elsewhere
			return
		}
		s.live, s.firstDNS = true, time.Since(s.restarted)
	}
	why := ""
	switch {
	case err != nil:
		why = err.Error()
	case (m.Rcode == dns.RcodeNameError || (m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0)) && c.seen[i-1][qname]:
		p.forgot++
		why = "answered as listed before, now " + dns.RcodeToString[m.Rcode] + fmt.Sprintf(" (%d answers)", len(m.Answer))
	case m.Rcode == dns.RcodeNameError || (m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0):
		p.lag++ // NXDOMAIN or NODATA: not applied here yet
		return
	case m.Rcode != dns.RcodeSuccess:
		why = dns.RcodeToString[m.Rcode]
	case len(m.Answer) != 1 || !strings.HasSuffix(m.Answer[0].String(), "\t"+codeSender):
		why = fmt.Sprintf("wrong answer %v", m.Answer)
	default:
		p.ok++
		c.seen[i-1][qname] = true
		return
	}
	p.fail++
	if len(c.samples) < 20 {
		c.samples = append(c.samples, fmt.Sprintf("%s node %d %s: %s", time.Now().Format("15:04:05.000"), i, qname, why))
	}
}

// report is the campaign's tally for the test log.
func (c *campaign) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	count := map[outcome]int{}
	minority := map[outcome]int{}
	for _, w := range c.writes {
		count[w.outcome]++
		if w.minority {
			minority[w.outcome]++
		}
	}
	fmt.Fprintf(&b, "writes: %d acked, %d spooled, %d failed; on the minority side: %d acked, %d spooled, %d failed\n",
		count[acked], count[spooled], count[failed], minority[acked], minority[spooled], minority[failed])
	why := map[string]int{}
	for _, w := range c.writes {
		if w.outcome == failed {
			r := w.last
			if len(r) > 90 {
				r = r[:90]
			}
			why[fmt.Sprintf("node %d: %s", w.node, r)]++
		}
	}
	for r, k := range why {
		fmt.Fprintf(&b, "  failed write x%d: %s\n", k, r)
	}
	for i, p := range c.probes {
		fmt.Fprintf(&b, "node %d DNS: %d ok, %d lag (not applied yet), %d withdrawn (REFUSED while replaying after its restart), %d failed (of which %d forgot a name it had answered)", i+1, p.ok, p.lag, p.withdrawn, p.fail, p.forgot)
		if s := c.state[i]; !s.restarted.IsZero() {
			fmt.Fprintf(&b, "; first DNS answer %v after its restart", s.firstDNS.Round(time.Millisecond))
		}
		b.WriteString("\n")
	}
	for _, s := range c.samples {
		fmt.Fprintf(&b, "  DNS failure: %s\n", s)
	}
	return b.String()
}
