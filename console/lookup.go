package console

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// lookupData fills the public look-up page.
type lookupData struct {
	Sender, IP string
	Asked      bool
	// Lines are the answers, in the words of the zone's TXT records.
	Lines []string
	// Listed is true when the sender passes through the relay.
	Listed bool
	// Challenges is true when this node can send a new challenge.
	Challenges bool
}

// lookup is the public page a sender lands on from a 451 (the policy
// service's --why-url can point here: /console/lookup?s={sender}&ip={client}):
// whether the sender is whitelisted through the relay, and whether the
// relay is registered. It shows exactly what the relay and sender zones
// answer anyone who asks those names — listed or not, the entity's name
// and since when — never contacts, other senders, or challenges. Each
// client network may ask DefaultLookupRate times a minute.
func (c *Console) lookup(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := lookupData{Sender: strings.TrimSpace(q.Get("s")), IP: strings.TrimSpace(q.Get("ip")), Challenges: c.cfg.Challenger != nil}
	title := "Is a sender whitelisted?"
	if d.Sender == "" && d.IP == "" {
		c.render(w, http.StatusOK, "lookup", view{Title: title, Nav: "lookup", S: s, Data: d})
		return nil
	}
	if !c.lookups.allow(clientNet(r)) {
		c.render(w, http.StatusTooManyRequests, "lookup", view{Title: title, Nav: "lookup", S: s, Data: d,
			Error: "Too many look-ups from your network in the last minute; wait a minute and try again."})
		return nil
	}
	sender, err := record.NormalizeSender(strings.Trim(d.Sender, "<> "))
	if err != nil || !strings.Contains(sender, "@") {
		c.render(w, http.StatusBadRequest, "lookup", view{Title: title, Nav: "lookup", S: s, Data: d,
			Error: "Enter the sender's full address, like dave@example.org."})
		return nil
	}
	ip, err := netip.ParseAddr(d.IP)
	if err != nil {
		c.render(w, http.StatusBadRequest, "lookup", view{Title: title, Nav: "lookup", S: s, Data: d,
			Error: "Enter the sending server's IP address, like 192.0.2.4 or 2001:db8::25."})
		return nil
	}
	d.Asked = true
	d.Lines, d.Listed = answer(c.store.Index().Load(), sender, ip.Unmap())
	c.render(w, http.StatusOK, "lookup", view{Title: title, Nav: "lookup", S: s, Data: d})
	return nil
}

// answer says what the sender and relay zones answer for sender through
// ip.
func answer(v *index.View, sender string, ip netip.Addr) ([]string, bool) {
	e := v.EntityOf(ip)
	relay := "The server " + ip.String() + " is not a registered relay of the whitelist."
	if e != nil && e.Registered {
		relay = "The server " + ip.String() + " is registered: " + via(e) + since(e.Created) + "."
	}
	if e == nil {
		return []string{sender + " is not whitelisted through " + ip.String() + ".", relay}, false
	}
	domain := sender[strings.LastIndexByte(sender, '@')+1:]
	switch {
	case v.Pair(e.ID, []byte(sender)) != nil:
		p := v.Pair(e.ID, []byte(sender))
		return []string{sender + " is verified via " + via(e) + since(p.Created) + ".", relay}, true
	case v.Pair(e.ID, []byte(domain)) != nil:
		p := v.Pair(e.ID, []byte(domain))
		return []string{"The whole domain " + domain + " is verified via " + via(e) + since(p.Created) + ".", relay}, true
	case v.Verp(e.ID, []byte(domain)) != nil:
		vp := v.Verp(e.ID, []byte(domain))
		return []string{ip.String() + " is a VERP list server for " + domain + since(vp.Created) + ".", relay}, true
	}
	return []string{sender + " is not whitelisted through " + ip.String() + ".", relay}, false
}

// via names the entity as the zone's TXT record does.
func via(e *record.Entity) string {
	if e.Name != "" {
		return "relay group " + e.Name
	}
	return "relay " + e.Label()
}

func since(t int64) string {
	if t == 0 {
		return ""
	}
	return " since " + time.Unix(t, 0).UTC().Format("2006-01-02")
}
