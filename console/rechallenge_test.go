package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/verify"
)

// challenger records the requests it gets and answers with outcome.
type challenger struct {
	mu      sync.Mutex
	asked   []string // "sender ip by"
	outcome verify.Outcome
}

func (c *challenger) Request(_ context.Context, sender string, ip netip.Addr, by string) (verify.Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, sender+" "+ip.String()+" "+by)
	return c.outcome, nil
}

func (c *challenger) calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.asked...)
}

func TestLookup_NewChallengeOnlyRenewsThroughTheChallengePath(t *testing.T) {
	r := newRig(t)
	if body := r.do("GET", "/console/lookup?s=eve@a.example&ip=192.0.2.4", "", nil).Body.String(); strings.Contains(body, "/console/lookup/challenge") {
		t.Errorf("a node without verification offers a new challenge:\n%s", body)
	}
	ch := &challenger{outcome: verify.Outcome{Result: verify.Sent}}
	r.c.cfg.Challenger = ch
	r.c.lookups = newLimiter(100, time.Minute)
	// Eve's mail through relay A was deferred once: a challenge exists.
	r.apply(command.ChallengeOpen, command.ChallengeOpenBody{ID: "c1", Kind: "pair", Sender: "eve@a.example", IP: "192.0.2.4",
		TokenHash: strings.Repeat("ab", 32), TTL: 3600})
	if body := r.do("GET", "/console/lookup?s=eve@a.example&ip=192.0.2.4", "", nil).Body.String(); !strings.Contains(body, `action="/console/lookup/challenge"`) {
		t.Fatalf("the look-up of an unlisted sender offers no new challenge:\n%s", body)
	}
	type answer struct {
		code int
		body string
	}
	ask := func(sender, origin string, fetchSite ...string) answer {
		t.Helper()
		req := httptest.NewRequest("POST", "http://example.com/console/lookup/challenge",
			strings.NewReader(url.Values{"s": {sender}, "ip": {"192.0.2.4"}, "csrf": {formTokenOf(rigFormCookie)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: formCookieName, Value: rigFormCookie})
		req.RemoteAddr = "192.0.2.200:4000"
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if len(fetchSite) > 0 {
			req.Header.Set("Sec-Fetch-Site", fetchSite[0])
		}
		w := httptest.NewRecorder()
		r.c.ServeHTTP(w, req)
		return answer{w.Code, w.Body.String()}
	}

	for _, h := range [][]string{{"https://evil.example"}, {"null", "cross-site"}, {"", "same-site"}, {"null"}} {
		if w := ask("Eve@A.example", h[0], h[1:]...); w.code != http.StatusForbidden || len(ch.calls()) != 0 {
			t.Errorf("a post from another site (%q): %d, %d requests\n%s", h, w.code, len(ch.calls()), w.body)
		}
	}
	// The console's own form in a browser.
	if w := ask("Eve@A.example", "http://example.com", "same-origin"); w.code != 200 || !strings.Contains(w.body, "a new confirmation mail is on its way") {
		t.Errorf("renewing Eve's challenge: %d\n%s", w.code, w.body)
	}
	if got := ch.calls(); len(got) != 1 || got[0] != "eve@a.example 192.0.2.4 console:lookup" {
		t.Fatalf("challenge requests %q, want Eve's through the relay by console:lookup", got)
	}
	// Nobody mailed through A as mallory: same answer, no mail.
	if w := ask("mallory@a.example", ""); w.code != 200 || !strings.Contains(w.body, "a new confirmation mail is on its way") {
		t.Errorf("asking for a sender never challenged: %d\n%s", w.code, w.body)
	}
	if w := ask("dave@a.example", ""); !strings.Contains(w.body, "Already whitelisted") {
		t.Errorf("asking for a listed sender: %d\n%s", w.code, w.body)
	}
	if n := len(ch.calls()); n != 1 {
		t.Errorf("%d challenge requests, want still 1: the page mailed an address nobody's mail was deferred for", n)
	}
	ch.outcome = verify.Outcome{Result: verify.Limited, Limit: "sender", Reason: "sender limit"}
	if w := ask("eve@a.example", ""); w.code != http.StatusTooManyRequests || !strings.Contains(w.body, "as many challenges as it may") {
		t.Errorf("a limited challenge: %d\n%s", w.code, w.body)
	}
	ch.outcome = verify.Outcome{Result: verify.Refused, Unchallengeable: true, Reason: "eve is a role address"}
	if w := ask("eve@a.example", ""); w.code != http.StatusUnprocessableEntity || !strings.Contains(w.body, "No challenge: eve is a role address.") {
		t.Errorf("a refused challenge: %d\n%s", w.code, w.body)
	}
	// Five requests an hour from one network (the sixth here); the one
	// from another site was not counted.
	if w := ask("eve@a.example", ""); w.code != http.StatusTooManyRequests || !strings.Contains(w.body, "Too many challenge requests") {
		t.Errorf("the 6th request in an hour: %d\n%s", w.code, w.body)
	}
	if n := len(ch.calls()); n != 3 {
		t.Errorf("%d challenge requests, want 3", n)
	}
}
