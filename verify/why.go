package verify

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/record"
)

// WhyPath is where WhyHandler is mounted: the page the policy service's
// --why-url points at (https://wl.example.org/why?s={sender}&ip={client}).
const WhyPath = "/why"

// WhyHandler serves the explanation page of the 451 "sender not yet
// validated in global whitelist" deferral at WhyPath: what the deferral
// means and what the sender can do, and, given the sender (s) and the
// sending server's address (ip), whether the pair is whitelisted and the
// server a registered relay. It shows no more than the DNS zone tells
// anyone who asks it the same names (listed or not, the relay entity's
// name): never whether a challenge was requested, mailed or answered.
// GET and HEAD only.
func (s *Service) WhyHandler() http.Handler {
	return http.HandlerFunc(s.serveWhy)
}

func (s *Service) serveWhy(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.pages.write(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed",
			Lines: []string{"Open the link from the error message in a browser."}})
		return
	}
	q := r.URL.Query()
	s.pages.write(w, http.StatusOK, s.whyPage(q.Get("s"), q.Get("ip")))
}

// whyGeneral is what every explanation page says.
var whyGeneral = []string{
	"The receiving mail server checks senders against a global whitelist of senders confirmed for the mail server they send through. " +
		"Mail from a sender not yet confirmed for that server is held back for a while (SMTP code 451, a temporary failure), and the sending server tries again by itself.",
	"If the receiving side asked the whitelist to check the sender, the sender gets one message with a link: opening it and pressing Confirm, " +
		"or replying to the message, whitelists the sender for that server. The held-back mail is then accepted on its next try, usually within minutes.",
	"Nothing to do otherwise: this page is only an explanation. Nobody is sent mail because this page was opened.",
}

// whyPage is the explanation, with the status of sender through ip when
// both parse.
func (s *Service) whyPage(sender, ipText string) page {
	pg := page{Title: "Why was this mail held back?", Lines: whyGeneral}
	if sender == "" || ipText == "" {
		return pg
	}
	addr, err := record.NormalizeSender(strings.Trim(strings.TrimSpace(sender), "<>"))
	ip, ipErr := netip.ParseAddr(ipText)
	if err != nil || ipErr != nil || !strings.Contains(addr, "@") {
		return pg
	}
	return page{Title: pg.Title, Lines: append([]string{s.whyStatus(addr, ip.Unmap())}, whyGeneral...)}
}

// whyStatus says what the sender and relay zones answer for addr through
// ip.
func (s *Service) whyStatus(addr string, ip netip.Addr) string {
	v := s.store.Index().Load()
	e := v.EntityOf(ip)
	notRegistered := fmt.Sprintf("The sending server %s is not a registered relay of the whitelist, so its senders cannot be confirmed yet: its operator can register it.", ip)
	if e == nil {
		return notRegistered
	}
	relay := s.relayName(&record.Challenge{Entity: e.ID, IP: ip.String()})
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	switch {
	case v.Pair(e.ID, []byte(addr)) != nil || v.Pair(e.ID, []byte(domain)) != nil || v.Verp(e.ID, []byte(domain)) != nil:
		return fmt.Sprintf("%s is whitelisted for mail through relay %s: the held-back mail is accepted on its next try.", addr, relay)
	case !e.Registered:
		return notRegistered
	}
	if _, reason := challengeable(addr, s.never); reason != "" {
		return fmt.Sprintf("%s is not whitelisted for mail through relay %s, and the whitelist never asks such an address to confirm (%s): "+
			"the operator of relay %s can whitelist it, or its domain, directly.", addr, relay, reason, relay)
	}
	return fmt.Sprintf("%s is not yet confirmed for mail through relay %s.", addr, relay)
}
