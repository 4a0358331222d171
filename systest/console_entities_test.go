package systest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"
)

// TestConsole_EditAndDeleteRelaysInBrowser: a postmaster whose token
// holds 127.0.0.0/29 edits their lone relay's contact in Chromium (a bad
// address refused in the page), deletes it through the confirmation page
// and sees dig answer NXDOMAIN for it, deletes their group the same way,
// and cannot reach another postmaster's group by URL or by an edited
// form field; every page passes the accessibility checks and is
// screenshotted.
func TestConsole_EditAndDeleteRelaysInBrowser(t *testing.T) {
	dig := needTool(t, "dig", "bind9-dnsutils")
	n := startNode(t, "")
	code, b := n.api("POST", "/v1/relays", map[string]any{"ip": consoleRelay, "contact": consoleContact})
	if code != 201 {
		t.Fatalf("registering relay A: %d %s", code, b)
	}
	relayID := strconv.FormatUint(entityID(t, b), 10)
	code, b = n.api("POST", "/v1/groups", map[string]any{"name": "pool", "members": []string{"127.0.0.6/31"}, "contact": consoleContact, "registered": true})
	if code != 201 {
		t.Fatalf("creating group pool: %d %s", code, b)
	}
	poolID := strconv.FormatUint(entityID(t, b), 10)
	code, b = n.api("POST", "/v1/groups", map[string]any{"name": "other-mx", "members": []string{consoleOther}, "contact": "pm-b@b.example", "registered": true})
	if code != 201 {
		t.Fatalf("creating group B: %d %s", code, b)
	}
	otherID := strconv.FormatUint(entityID(t, b), 10)
	for _, ip := range []string{consoleRelay, "127.0.0.7"} {
		if code, b := n.api("POST", "/v1/pairs", map[string]any{"sender": "dave@umkc.edu", "ip": ip}); code != 201 {
			t.Fatalf("adding a pair through %s: %d %s", ip, code, b)
		}
	}
	code, b = n.api("POST", "/v1/tokens", map[string]any{"name": "pm-a", "role": "postmaster", "prefixes": []string{"127.0.0.0/29"}})
	var tok struct{ Secret string }
	if err := json.Unmarshal(b, &tok); code != 201 || err != nil || tok.Secret == "" {
		t.Fatalf("creating the postmaster token: %d %s", code, b)
	}
	ask := toolAsk(dig, "+notcp", "+time=3", "+tries=2")
	if r := ask(t, n.ready.DNSUDP, relayName(t, consoleRelay), dns.TypeA); r.rcode != dns.RcodeSuccess {
		t.Fatalf("dig for the registered relay: %s, want an answer", r)
	}

	br := newBrowser(t, "http://"+n.ready.HTTP, screenshotDir(t))
	br.open("/console/signin")
	br.do(chromedp.SendKeys(chromedp.CSS("#token"), tok.Secret))
	br.submit(`form[action="/console/signin/token"] button`, "Your relays and groups")

	// Edit the relay: a bad contact is refused in the page, a good one saved.
	br.submit(`a[aria-label="Edit relay `+consoleRelay+`"]`, "Relay "+consoleRelay)
	br.checkA11y("relay-edit")
	br.shot("40-relay-edit")
	br.do(chromedp.SetValue(chromedp.CSS("#contact"), "not an address"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#contact").type = "text"`)) // past the browser's own check
	br.submit(`form[action="/console/relays/edit"] button`, "Invalid contact")
	br.checkA11y("relay-edit-error")
	br.shot("41-relay-edit-error")
	br.do(chromedp.SetValue(chromedp.CSS("#contact"), "mx-team@a.example"))
	br.submit(`form[action="/console/relays/edit"] button`, "Saved")
	if code, b := n.api("GET", "/v1/relays/"+relayID, nil); code != 200 || !bytes.Contains(b, []byte(`"contact": "mx-team@a.example"`)) {
		t.Errorf("the relay after the edit: %d %s", code, b)
	}

	// Delete it: the confirmation page, then the zone forgets it.
	br.submit(`a[aria-label="Delete relay `+consoleRelay+`"]`, "Delete the relay "+consoleRelay+"?")
	br.waitText("1 pair or VERP source through it is deleted with it")
	br.checkA11y("relay-delete")
	br.shot("42-relay-delete-confirm")
	br.submit(`form[action="/console/relays/delete"] button`, "Deleted.")
	br.shot("43-relay-deleted")
	if code, _ := n.api("GET", "/v1/relays/"+relayID, nil); code != 404 {
		t.Errorf("the deleted relay in the API: %d, want 404", code)
	}
	if r := ask(t, n.ready.DNSUDP, relayName(t, consoleRelay), dns.TypeA); r.rcode != dns.RcodeNameError {
		t.Errorf("dig for the deleted relay: %s, want NXDOMAIN", r)
	}

	// Another postmaster's group: not by URL, not by an edited form field.
	br.open("/console/groups/delete?id=" + otherID)
	br.waitText("There is no relay " + otherID + " among yours")
	br.open("/console/groups/delete?id=" + poolID)
	br.waitText("Delete the group pool?")
	br.checkA11y("group-delete")
	br.shot("44-group-delete-confirm")
	br.do(chromedp.SetAttributeValue(chromedp.CSS(`form[action="/console/groups/delete"] input[name=id]`), "value", otherID))
	br.submit(`form[action="/console/groups/delete"] button`, "There is no relay "+otherID+" among yours")
	if code, _ := n.api("GET", "/v1/groups/"+otherID, nil); code != 200 {
		t.Errorf("group B after the edited form: %d, want 200", code)
	}

	// Delete the group from its edit form's link.
	br.open("/console/groups?id=" + poolID)
	br.submit(`a[href="/console/groups/delete?id=`+poolID+`"]`, "Delete the group pool?")
	br.submit(`form[action="/console/groups/delete"] button`, "Deleted.")
	if text := br.mainText(); bytes.Contains([]byte(text), []byte("pool")) {
		t.Errorf("the relays page still lists the deleted group:\n%s", text)
	}
	br.shot("45-group-deleted")
	if code, _ := n.api("GET", "/v1/groups/"+poolID, nil); code != 404 {
		t.Errorf("the deleted group in the API: %d, want 404", code)
	}
	if r := ask(t, n.ready.DNSUDP, senderName(t, "dave.umkc.edu", "127.0.0.7"), dns.TypeA); r.rcode != dns.RcodeNameError {
		t.Errorf("dig for a pair of the deleted group: %s, want NXDOMAIN", r)
	}
}
