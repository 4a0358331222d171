package verify

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
)

// The explanation page of the 451 says what DNS says for the sender and
// relay, and nothing DNS does not: not whether a challenge was opened or
// mailed. Opening it changes nothing and mails nobody.
func TestWhy_ShowsWhatDNSShowsAndNoMore(t *testing.T) {
	e := newEnv(t)
	e.mustSend("alice@example.com", relayIP) // an open, mailed challenge
	e.mustApply(command.PairPut, command.PairBody{Sender: "listed@example.com", Entity: e.group})
	e.mustApply(command.PairPut, command.PairBody{Sender: "whole.example", Entity: e.group})
	before, mails := e.store.appliedCount(), len(e.sink.messages())
	why := func(sender, ip string) pageResp {
		return e.serve(e.svc.WhyHandler(), "GET", WhyPath+"?s="+url.QueryEscape(sender)+"&ip="+url.QueryEscape(ip))
	}
	cases := []struct {
		name    string
		r       pageResp
		says    []string
		mustNot []string
	}{
		{"no parameters", e.serve(e.svc.WhyHandler(), "GET", WhyPath), []string{"Why was this mail held back?", "451", "reply"}, []string{"whitelisted for mail"}},
		{"listed", why("listed@example.com", groupIP.String()), []string{"listed@example.com is whitelisted for mail through relay mx-group (192.0.2.1)"}, nil},
		{"domain listed", why("anyone@whole.example", groupIP2.String()), []string{"is whitelisted"}, nil},
		{"challenged, not confirmed", why("alice@example.com", relayIP.String()),
			[]string{"alice@example.com is not yet confirmed for mail through relay mx1.example.net (198.51.100.7)"},
			[]string{"sent", "open", "challenge", "expires"}},
		{"never challenged", why("info@example.com", relayIP.String()),
			[]string{"info@example.com is not whitelisted", "never asks such an address to confirm", "role address", "can whitelist it, or its domain"}, nil},
		{"unregistered relay", why("dave@example.com", unregisteredIP.String()), []string{"not a registered relay"}, nil},
		{"unknown relay", why("dave@example.com", strangerIP.String()), []string{"not a registered relay"}, nil},
		{"not an address", why("<script>", "192.0.2.1"), []string{"Why was this mail held back?"}, []string{"<script>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.r.status != http.StatusOK || !contains(c.r.body, c.says...) {
				t.Fatalf("%d, want 200 with %q:\n%s", c.r.status, c.says, c.r.body)
			}
			status := firstParagraph(c.r.body)
			for _, no := range c.mustNot {
				if strings.Contains(status, no) {
					t.Errorf("the status line shows %q: %s", no, status)
				}
			}
			checkPageHeaders(t, c.r)
		})
	}
	if r := e.serve(e.svc.WhyHandler(), "POST", WhyPath); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	if e.store.appliedCount() != before || len(e.sink.messages()) != mails {
		t.Fatal("the explanation page changed the store or sent mail")
	}
}

// firstParagraph is the text of a page's first <p>.
func firstParagraph(body string) string {
	_, after, _ := strings.Cut(body, "<p>")
	p, _, _ := strings.Cut(after, "</p>")
	return p
}
