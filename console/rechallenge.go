package console

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/verify"
)

// DefaultChallengeRate is how many new challenges one client network
// (/24, /48) may ask for on the look-up page per hour.
const DefaultChallengeRate = 5

// maybeSent is the one answer for a request that may or may not have
// mailed: the page never says whether an earlier challenge exists, which
// would tell who mailed whom through which server.
const maybeSent = "If mail from this sender through this server was held back, a new confirmation mail is on its way to the " +
	"sender's address, unless one is still waiting there (look in the spam folder too). Confirming it whitelists the sender " +
	"for that server; the next retry is accepted."

// rechallenge asks for a new challenge to the sender of the look-up form
// through the relay at its address, by the path every challenge takes
// (Config.Challenger, the policy service's POST /v1/challenges): a
// registered relay, the sender, domain and relay rate limits, never an
// address that may not be challenged, one mail per open challenge. Two
// rules are the page's own: it only renews a challenge — one through the
// same relay must exist already, opened because that relay's MTA deferred
// mail from the sender — so the page never mails an address first; and
// each client network may ask DefaultChallengeRate times an hour.
func (c *Console) rechallenge(w http.ResponseWriter, r *http.Request, s *session) error {
	d := lookupData{Sender: strings.TrimSpace(r.PostFormValue("s")), IP: strings.TrimSpace(r.PostFormValue("ip"))}
	title := "Is a sender whitelisted?"
	again := func(status int, msg, note string) error {
		c.render(w, status, "lookup", view{Title: title, Nav: "lookup", S: s, Error: msg, Notice: note, Data: d})
		return nil
	}
	switch {
	case c.cfg.Challenger == nil:
		return again(http.StatusNotFound, "This node does not send challenges (verification is not configured).", "")
	case !c.rechallenges.allow(clientNet(r)):
		return again(http.StatusTooManyRequests, "Too many challenge requests from your network in the last hour; wait and try again.", "")
	}
	sender, err := record.NormalizeSender(strings.Trim(d.Sender, "<> "))
	ip, ipErr := netip.ParseAddr(d.IP)
	if err != nil || !strings.Contains(sender, "@") || ipErr != nil {
		return again(http.StatusBadRequest, "Look the sender up first: the form needs the full address and the server's IP address.", "")
	}
	ip = ip.Unmap()
	v := c.store.Index().Load()
	d.Asked = true
	d.Lines, d.Listed = answer(v, sender, ip)
	if d.Listed {
		return again(http.StatusOK, "", "Already whitelisted: nothing to confirm.")
	}
	e := v.EntityOf(ip)
	if e == nil || !c.challengedBefore(sender, e.ID) {
		return again(http.StatusOK, "", maybeSent)
	}
	o, err := c.cfg.Challenger.Request(r.Context(), sender, ip, "console:lookup")
	if err != nil {
		return again(http.StatusServiceUnavailable, "The whitelist cannot take a challenge right now; try again in a few minutes.", "")
	}
	switch o.Result {
	case verify.Sent, verify.Open:
		return again(http.StatusOK, "", maybeSent)
	case verify.Listed:
		return again(http.StatusOK, "", "Already whitelisted: nothing to confirm.")
	case verify.Limited:
		return again(http.StatusTooManyRequests, "The whitelist has sent as many challenges as it may for now (this sender, its domain or "+
			"this server); try again later.", "")
	case verify.SendFailed:
		return again(http.StatusBadGateway, "The confirmation mail could not be handed on right now; try again in a few minutes.", "")
	case verify.Refused:
		if o.Unchallengeable || !strings.Contains(o.Reason, "suppressed") {
			return again(http.StatusUnprocessableEntity, "No challenge: "+o.Reason+".", "")
		}
		return again(http.StatusOK, "", maybeSent)
	default: // no entity: the look-up already says the server is unknown
		return again(http.StatusUnprocessableEntity, "No challenge: "+o.Reason+".", "")
	}
}

// challengedBefore reports whether a challenge to sender through entity
// was ever opened (in any state still stored).
func (c *Console) challengedBefore(sender string, entity uint64) bool {
	found := false
	c.store.Challenges(func(ch *record.Challenge) bool {
		found = ch.Kind == record.ChallengePair && ch.Entity == entity && ch.Sender == sender
		return !found
	})
	return found
}
