package systest

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// policyProber asks a `wlns policy` service in the hub, as Postfix would,
// about senders the campaign wrote, while the soak goes on. The service
// asks node 1's DNS (node 1 is frozen and cut off at times, never killed)
// with its cache off, so every look-up crosses to the node. A sender node 1
// has already answered as listed must pass (DUNNO), an unknown one must be
// deferred (451 4.7.1). While node 1 is frozen the service fails open, as
// documented, so those look-ups are not counted.
type policyProber struct {
	c    *campaign
	addr string // the policy service, in the hub

	mu                sync.Mutex
	passed, deferred  int
	skipped, failures int
	samples           []string
}

// startPolicyProber starts the policy service (extra are further flags)
// and its prober, which ends with the campaign.
func startPolicyProber(s *soak, extra ...string) *policyProber {
	t := s.t
	t.Helper()
	const listen = hubAddr + ":10025"
	startPolicyIn(t, s.lab.hub, append([]string{"--listen", listen, "--dns", nsAddr(1) + ":5300", "--cache-size", "-1",
		"--dns-timeout", "500ms", "--dns-attempts", "2"}, extra...)...)
	p := &policyProber{c: s.c, addr: listen}
	s.c.wg.Add(1)
	go p.run(s.lab)
	return p
}

func (p *policyProber) run(lab *netLab) {
	defer p.c.wg.Done()
	rng := mrand.New(mrand.NewPCG(1, 25))
	for k := 0; p.c.sleep(250 * time.Millisecond); k++ {
		sender, listed := fmt.Sprintf("nobody-%d@example.org", k), false
		if k%2 == 0 {
			if sender, listed = p.answeredSender(rng); !listed {
				continue
			}
		}
		p.c.mu.Lock()
		before := p.c.state[0]
		p.c.mu.Unlock()
		action, err := ask(lab, p.addr, sender, p.c.ip)
		p.c.mu.Lock()
		after := p.c.state[0]
		p.c.mu.Unlock()
		p.tally(sender, listed, action, err, before.down || !before.live || after.gen != before.gen)
	}
}

// answeredSender picks a sender node 1's DNS has answered as listed.
func (p *policyProber) answeredSender(rng *mrand.Rand) (string, bool) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	for range 5 {
		if len(p.c.ackedQ) == 0 {
			return "", false
		}
		q := p.c.ackedQ[rng.IntN(len(p.c.ackedQ))]
		if p.c.seen[0][q] {
			return strings.Replace(strings.TrimSuffix(q, p.c.suffix), ".", "@", 1), true
		}
	}
	return "", false
}

// tally counts one decision; skip drops it (node 1 frozen meanwhile).
func (p *policyProber) tally(sender string, listed bool, action string, err error, skip bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case skip:
		p.skipped++
		return
	case err == nil && listed && action == "DUNNO":
		p.passed++
		return
	case err == nil && !listed && strings.HasPrefix(action, "451 4.7.1 "):
		p.deferred++
		return
	}
	p.failures++
	if len(p.samples) < 10 {
		p.samples = append(p.samples, fmt.Sprintf("%s %s (listed %v): %q %v", time.Now().Format("15:04:05.000"), sender, listed, action, err))
	}
}

// String is the prober's tally for the test log.
func (p *policyProber) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("policy look-ups: %d listed passed, %d unknown deferred, %d wrong, %d not counted (node 1 frozen); wrong: %v",
		p.passed, p.deferred, p.failures, p.skipped, p.samples)
}

// check fails the test on a wrong decision or when nothing was decided.
func (p *policyProber) check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures > 0 || p.passed == 0 || p.deferred == 0 {
		t.Errorf("policy look-ups through node 1: %d wrong (%v), %d listed passed, %d unknown deferred; want none wrong and some of each",
			p.failures, p.samples, p.passed, p.deferred)
	}
}

// ask sends one RCPT-stage policy request from the hub, as Postfix does,
// and returns the action.
func ask(lab *netLab, addr, sender, client string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := lab.dial(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("connecting to the policy service: %w", err)
	}
	return policyExchange(c, sender, client)
}
