package systest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The soak's challenges. Every node has verification on and mails through
// an SMTP sink in the hub (the relay); each node's inbound SMTP service
// listens on its own address. Challenges come two ways, as in production:
// the policy prober's unknown senders are deferred by `wlns policy`, which
// asks node 1 for a challenge (--challenge-api, an mta token), and a
// requester POSTs /v1/challenges with the mta token to a random live node.
// For each challenge mail that reaches the sink, the sender acts on a
// random live node after a moment: confirms by the /verify/ page (POST),
// confirms by replying to the node's inbound SMTP service, reports a
// forgery, or ignores the mail. While the chaos lasts an attempt may find
// the node frozen, cut off (the confirmation is then spooled) or not yet
// holding the challenge; the sender tries again elsewhere, as a person
// would click again. After the heal, a confirmation without a definite
// answer is made once more: a 2xx confirms it now, "unknown token" means
// an earlier attempt took effect. Then every confirming sender must be
// listed exactly once on every node and answered by every node's DNS, and
// no sender that was not confirmed (reported, ignored, never mailed) may
// be listed anywhere.

// soakChallengeDomain is the domain of the requester's senders.
const soakChallengeDomain = "confirm.example.net"

// soakSMTPPort is the inbound SMTP port of every node and the sink's port
// in the hub.
const soakSMTPPort = "2525"

// The actions a challenged sender takes.
const (
	actLink    = "link"
	actReply   = "reply"
	actForgery = "forgery"
	actIgnore  = "ignore"
)

// verifyArgs are the serve flags that turn verification on in the soak.
func verifyArgs() []string {
	return []string{"--verify-url", verifyBaseURL, "--verify-mail-domain", verifyMailDomain,
		"--verify-relay", hubAddr + ":" + soakSMTPPort, "--verify-relay-tls", "none", "--smtp", ":" + soakSMTPPort,
		"--verify-limit-domain-relay", "-1", "--verify-limit-domain", "-1", "--verify-limit-relay", "-1"}
}

// answer is what one challenge mail's sender did and got.
type answer struct {
	sender, action string
	mail           challengeMail
	node           int    // where the last attempt went
	done           bool   // a definite answer: 2xx, or "unknown token"
	took           bool   // the definite answer was a 2xx
	spooled        bool   // ... saying the confirmation waits for a quorum
	uncertain      int    // attempts without a definite answer
	unknown        int    // "unknown token" answers while the chaos lasted
	late           bool   // first definite answer only after the heal
	last           string // last answer, for the report
}

// challenges runs the requester and the senders beside the campaign.
type challenges struct {
	c     *campaign
	sink  *smtpSink
	token string       // mta role
	web   *http.Client // the senders' browser: short timeout
	rng   *mrand.Rand  // used under mu

	mu        sync.Mutex
	requested map[string]string // requester's sender → outcome of its POST
	answers   map[string]*answer
	taken     int // sink messages handed to senders
	faults    []string
	wg        sync.WaitGroup // senders still acting
}

// startChallenges starts the sink in the hub (before the nodes, which mail
// it), returning what the rest needs once the cluster is up.
func startChallengeSink(t *testing.T, lab *netLab) *smtpSink {
	t.Helper()
	ln, err := lab.listen("tcp", hubAddr+":"+soakSMTPPort)
	if err != nil {
		t.Fatalf("listening for the soak's SMTP relay in the hub: %v", err)
	}
	return startSinkOn(t, ln)
}

// newChallenges registers the campaign's relay (challenges go only to
// registered relays), makes the mta token and writes it to a file for the
// policy service.
func newChallenges(t *testing.T, leader *nsNode, c *campaign, sink *smtpSink) (*challenges, string) {
	t.Helper()
	if code, b, err := leader.tryAPI("POST", "/v1/relays", map[string]string{"ip": c.ip, "contact": "postmaster@relay.example"}, nil); err != nil || code >= 300 {
		t.Fatalf("registering relay %s: %d %s %v", c.ip, code, b, err)
	}
	code, b, err := leader.tryAPI("POST", "/v1/tokens", map[string]string{"name": "soak-mta", "role": "mta"}, nil)
	var tok struct {
		Secret string `json:"secret"`
	}
	if err != nil || code != http.StatusCreated || json.Unmarshal(b, &tok) != nil || tok.Secret == "" {
		t.Fatalf("creating the mta token: %d %s %v", code, b, err)
	}
	file := filepath.Join(t.TempDir(), "mta.token")
	if err := os.WriteFile(file, []byte(tok.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ch := &challenges{c: c, sink: sink, token: tok.Secret,
		web:       &http.Client{Transport: c.lab.http.Transport, Timeout: 5 * time.Second},
		rng:       mrand.New(mrand.NewPCG(3, 13)),
		requested: map[string]string{}, answers: map[string]*answer{}}
	return ch, file
}

// start runs the requester and the mail reader until the campaign ends.
func (ch *challenges) start() {
	ch.c.wg.Add(2)
	go ch.requester()
	go ch.reader()
}

// requester asks a random live node for a challenge to a new sender about
// once a second, as an MTA plugin with an mta token does.
func (ch *challenges) requester() {
	defer ch.c.wg.Done()
	for k := 1; ch.c.sleep(time.Duration(700+ch.intN(600)) * time.Millisecond); k++ {
		i := ch.liveNode()
		if i == 0 {
			continue
		}
		sender := fmt.Sprintf("api-%d@%s", k, soakChallengeDomain)
		code, b, err := doAPI(ch.c.lab.http, "http://"+nsAddr(i)+":8053", ch.token, "POST", "/v1/challenges",
			map[string]string{"sender": sender, "ip": ch.c.ip}, nil)
		var a struct {
			Outcome string `json:"outcome"`
		}
		out := fmt.Sprintf("%d", code)
		if err != nil {
			out = "error"
		} else if json.Unmarshal(b, &a) == nil && a.Outcome != "" {
			out = a.Outcome
		}
		ch.mu.Lock()
		ch.requested[sender] = out
		ch.mu.Unlock()
	}
}

// reader hands every new challenge mail in the sink to a sender.
func (ch *challenges) reader() {
	defer ch.c.wg.Done()
	for ch.c.sleep(200 * time.Millisecond) {
		for _, a := range ch.take() {
			ch.wg.Add(1)
			go ch.act(a)
		}
	}
}

// take turns the mails not taken yet into answers with their action: most
// confirm (by link or by reply), some report a forgery, some ignore it. A
// second mail to one sender is recorded as a fault.
func (ch *challenges) take() []*answer {
	msgs := ch.sink.messages()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	var out []*answer
	for ; ch.taken < len(msgs); ch.taken++ {
		m, err := parseChallenge(msgs[ch.taken])
		sender := strings.ToLower(m.to)
		if err != nil {
			ch.faults = append(ch.faults, err.Error())
			continue
		}
		if ch.answers[sender] != nil {
			ch.faults = append(ch.faults, "a second challenge mail to "+sender)
			continue
		}
		a := &answer{sender: sender, mail: m, action: actLink}
		switch r := ch.rng.IntN(20); {
		case r < 2:
			a.action = actForgery
		case r < 4:
			a.action = actIgnore
		case r < 11:
			a.action = actReply
		}
		ch.answers[sender] = a
		out = append(out, a)
	}
	return out
}

// act is one sender: after reading the mail for a moment, it tries live
// nodes until one gives a definite answer, at most six times, while the
// campaign lasts.
func (ch *challenges) act(a *answer) {
	defer ch.wg.Done()
	if a.action == actIgnore {
		return
	}
	for attempt := 0; attempt < 6 && ch.c.sleep(time.Duration(300+ch.intN(2000))*time.Millisecond); attempt++ {
		i := ch.liveNode()
		if i == 0 {
			continue
		}
		if ch.try(a, i, false) {
			return
		}
	}
}

// settle runs after the heal with every node live: it hands out the mails
// that came late, waits for the senders, and makes each confirmation or
// report without a definite answer once more, on node 1 (bounded).
func (ch *challenges) settle(t *testing.T) {
	t.Helper()
	time.Sleep(2 * time.Second) // challenge requests still queued in the policy service
	ch.take()                   // the campaign is over: these act only below
	ch.wg.Wait()
	ch.mu.Lock()
	var open []*answer
	for _, a := range ch.answers {
		if !a.done && a.action != actIgnore {
			open = append(open, a)
		}
	}
	ch.mu.Unlock()
	for _, a := range open {
		deadline := time.Now().Add(30 * time.Second)
		for !ch.try(a, 1, true) {
			if time.Now().After(deadline) {
				t.Errorf("challenge of %s (%s): no definite answer from node 1 after the heal: %s", a.sender, a.action, a.last)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// try makes a's action once on node i and records the answer; it reports
// whether the answer was definite.
func (ch *challenges) try(a *answer, i int, healed bool) bool {
	var code int
	var text string
	var err error
	if a.action == actReply {
		code, text, err = replyTo(ch.c.lab, i, a.sender, a.mail.replyTo)
	} else {
		path := "/verify/confirm/" + a.mail.confirm
		if a.action == actForgery {
			path = "/verify/forgery/" + a.mail.forgery
		}
		code, text, err = tryPage(ch.web, "http://"+nsAddr(i)+":8053", http.MethodPost, path)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	a.node = i
	gone := code == http.StatusNotFound || code == 550
	switch {
	case err == nil && (code == http.StatusOK || code == 250):
		a.done, a.took, a.late = true, true, healed
		a.spooled = strings.Contains(text, "takes effect as soon as")
	case err == nil && gone:
		if !healed {
			a.unknown++
			a.last = fmt.Sprintf("node %d: %d", i, code)
			return false // not applied there yet, or used: the sender tries another node
		}
		a.done, a.late = true, true // used by an earlier attempt
	default:
		a.uncertain++
	}
	a.last = fmt.Sprintf("node %d: %d %v", i, code, err)
	return a.done
}

// liveNode picks a random node the campaign has not marked down (killed
// or frozen), 0 when none.
func (ch *challenges) liveNode() int {
	ch.c.mu.Lock()
	var live []int
	for k, s := range ch.c.state {
		if !s.down {
			live = append(live, k+1)
		}
	}
	ch.c.mu.Unlock()
	if len(live) == 0 {
		return 0
	}
	return live[ch.intN(len(live))]
}

func (ch *challenges) intN(n int) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.rng.IntN(n)
}

// replyTo sends a reply from sender to the reply address through node i's
// inbound SMTP service and returns the final reply code: 250 after DATA,
// else the code of the refused command.
func replyTo(lab *netLab, i int, sender, to string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := lab.dial(ctx, "tcp", nsAddr(i)+":"+soakSMTPPort)
	if err != nil {
		return 0, "", err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := smtp.NewClient(conn, nsAddr(i))
	if err != nil {
		conn.Close()
		return 0, "", err
	}
	defer c.Close()
	err = c.Hello("mail.example.net")
	if err == nil {
		err = c.Mail(sender)
	}
	if err == nil {
		err = c.Rcpt(to)
	}
	if err == nil {
		var w interface {
			Write([]byte) (int, error)
			Close() error
		}
		if w, err = c.Data(); err == nil {
			_, err = fmt.Fprintf(w, "From: <%s>\r\nTo: <%s>\r\nSubject: Re: Please confirm your mail\r\n\r\nyes, that was me\r\n", sender, to)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
	}
	var pe *textproto.Error
	switch {
	case err == nil:
		_ = c.Quit()
		return 250, "", nil
	case errors.As(err, &pe):
		return pe.Code, pe.Msg, nil
	}
	return 0, "", err
}

// check demands that no sender without a confirmation is listed (and takes
// them out of have, so checkWrites does not report them again) and records
// the confirmations as writes, so checkWrites finds each exactly once and
// sweepDNS asks every node for it. It fails on a second mail to a sender
// and when the chaos confirmed nothing by link or by reply.
func (ch *challenges) check(t *testing.T, have map[string]int) {
	t.Helper()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for _, d := range ch.faults {
		t.Errorf("challenge mail: %s", d)
	}
	var recs []writeRec
	during := map[string]int{}
	for s, a := range ch.answers {
		confirms := a.action == actLink || a.action == actReply
		if !confirms {
			if have[s] > 0 {
				t.Errorf("%s is listed %d times, but its challenge was %s (%s), never confirmed", s, have[s], map[string]string{actForgery: "reported as forged", actIgnore: "ignored"}[a.action], a.last)
			}
			delete(have, s)
			continue
		}
		out := acked
		if a.spooled {
			out = spooled
		}
		recs = append(recs, writeRec{sender: s, node: a.node, outcome: out, last: "confirmed by " + a.action + ": " + a.last})
		if a.took && !a.late {
			during[a.action]++
		}
	}
	for s, o := range ch.requested {
		if ch.answers[s] != nil {
			continue
		}
		if o == "sent" {
			t.Errorf("POST /v1/challenges for %s answered sent, but no mail reached the relay", s)
		}
		if have[s] > 0 {
			t.Errorf("%s is listed %d times, but no challenge mail ever reached it", s, have[s])
		}
		delete(have, s)
	}
	ch.c.record(recs)
	if during[actLink] == 0 || during[actReply] == 0 {
		t.Errorf("confirmations that took during the chaos: %v; want some by link and some by reply", during)
	}
}

// String is the challenge tally for the test log.
func (ch *challenges) String() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	req := map[string]int{}
	for _, o := range ch.requested {
		req[o]++
	}
	type tally struct{ n, during, spooled, late, uncertain, unknown int }
	by := map[string]*tally{}
	policy := 0
	for s, a := range ch.answers {
		if !strings.HasSuffix(s, "@"+soakChallengeDomain) {
			policy++
		}
		t := by[a.action]
		if t == nil {
			t = &tally{}
			by[a.action] = t
		}
		t.n++
		t.uncertain += a.uncertain
		t.unknown += a.unknown
		switch {
		case a.took && !a.late:
			t.during++
		case a.late:
			t.late++
		}
		if a.spooled {
			t.spooled++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "challenges: API requests by outcome %v; %d mails (%d from the policy service's deferrals)", sortedCounts(req), len(ch.answers), policy)
	for _, act := range []string{actLink, actReply, actForgery, actIgnore} {
		if t := by[act]; t != nil {
			fmt.Fprintf(&b, "; %s %d: %d took during the chaos (%d spooled), %d settled after the heal, %d attempts without an answer, %d 'unknown token' on a node behind",
				act, t.n, t.during, t.spooled, t.late, t.uncertain, t.unknown)
		}
	}
	return b.String()
}

// sortedCounts prints a count map in key order.
func sortedCounts(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
