package systest

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/miekg/dns"
)

// The console system test: a real `wlns serve` with verification mail
// going to an in-test SMTP sink, and headless Chromium as the postmaster's
// browser.

const (
	// consoleRelay is postmaster A's registered relay; consoleOther is the
	// group of postmaster B, whose data A must never reach.
	consoleRelay   = "127.0.0.5"
	consoleContact = "pm-a@a.example"
	consoleOther   = "127.0.0.9"
)

var linkRE = regexp.MustCompile(`https?://\S+(/console/link/[A-Za-z0-9_-]+)`)

// TestConsole_PostmasterInBrowser walks a postmaster through the console in
// Chromium: sign in by a mailed link, add a pair and see dig answer it,
// pin it on the expiring page, fail to reach another postmaster's relay by
// editing the URL or a form field, get a message for bad input, and sign
// out; every page passes the accessibility checks and is screenshotted.
func TestConsole_PostmasterInBrowser(t *testing.T) {
	dig := needTool(t, "dig", "bind9-dnsutils")
	sink := startSink(t)
	n := startNode(t, "", "--verify-url", verifyBaseURL, "--verify-mail-domain", verifyMailDomain,
		"--verify-relay", sink.addr, "--smtp", "off", "--negative-ttl", "1", "--expire-pairs", "10d")
	if code, b := n.api("POST", "/v1/relays", map[string]any{"ip": consoleRelay, "contact": consoleContact}); code != 201 {
		t.Fatalf("registering relay A: %d %s", code, b)
	}
	code, b := n.api("POST", "/v1/groups", map[string]any{"name": "other-mx", "members": []string{consoleOther},
		"contact": "pm-b@b.example", "registered": true})
	if code != 201 {
		t.Fatalf("creating group B: %d %s", code, b)
	}
	otherID := strconv.FormatUint(entityID(t, b), 10)
	if code, b := n.api("POST", "/v1/pairs", map[string]any{"sender": "secret@b.example", "ip": consoleOther}); code != 201 {
		t.Fatalf("adding B's pair: %d %s", code, b)
	}

	br := newBrowser(t, "http://"+n.ready.HTTP, screenshotDir(t))

	// Sign in by mail.
	br.open("/console/signin")
	br.checkA11y("signin")
	br.shot("01-signin")
	br.do(chromedp.SendKeys(chromedp.CSS("#relay"), consoleRelay))
	br.submit(`form[action="/console/signin/link"] button`, "sign-in link is on its way")
	br.shot("02-link-sent")
	msg := sink.waitCount(t, 1, 20*time.Second)[0]
	if len(msg.to) != 1 || msg.to[0] != consoleContact || msg.from != "" {
		t.Fatalf("sign-in mail went from %q to %v, want the null sender to %s", msg.from, msg.to, consoleContact)
	}
	if got := msg.header(t, "Auto-Submitted"); got != "auto-generated" {
		t.Errorf("sign-in mail has Auto-Submitted %q, want auto-generated", got)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(msg.data)))
	if err != nil {
		t.Fatalf("decoding the sign-in mail: %v", err)
	}
	m := linkRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no sign-in link in the mail:\n%s", msg.data)
	}
	link := string(m[1])
	br.open(link)
	br.checkA11y("link")
	br.shot("03-link")
	br.submit("main form button", "Your relays and groups")
	if who := value(br, chromedp.Text(chromedp.CSS(".who"))); !strings.Contains(who, consoleContact) {
		t.Errorf("signed in as %q, want the contact %s", who, consoleContact)
	}
	if status, _ := httpPost(t, "http://"+n.ready.HTTP+link, ""); status != http.StatusGone {
		t.Errorf("a used sign-in link answers %d, want 410", status)
	}

	// The relays page shows A's relay only.
	text := br.mainText()
	if !strings.Contains(text, consoleRelay) || strings.Contains(text, "other-mx") {
		t.Errorf("relays page should list %s and not other-mx:\n%s", consoleRelay, text)
	}
	br.checkA11y("relays")
	br.shot("04-relays")

	// Add a pair; the zone answers it.
	br.open("/console/pairs")
	br.do(chromedp.SendKeys(chromedp.CSS("#sender"), "dave@umkc.edu"))
	br.submit(`form[action="/console/pairs"] button`, "Added.")
	br.waitText("dave@umkc.edu")
	br.checkA11y("pairs")
	br.shot("05-pairs")
	r := toolAsk(dig, "+notcp", "+time=3", "+tries=2")(t, n.ready.DNSUDP, senderName(t, "dave.umkc.edu", consoleRelay), dns.TypeA)
	if r.rcode != dns.RcodeSuccess || len(r.data(dns.TypeA)) != 1 {
		t.Errorf("dig after adding the pair in the console: %s, want one A record", r)
	}

	// Bad input: a message in the page, the form kept.
	br.do(chromedp.SendKeys(chromedp.CSS("#sender"), "not an address"))
	br.submit(`form[action="/console/pairs"] button`, "is not a sender address or domain")
	if v := value(br, chromedp.Evaluate[string](`document.querySelector("#sender").value`)); v != "not an address" {
		t.Errorf("the refused form lost its value: %q", v)
	}
	br.checkA11y("pairs-error")
	br.shot("06-pairs-error")

	// Another postmaster's relay: not by URL, not by an edited form field.
	br.open("/console/pairs?entity=" + otherID)
	br.waitText("There is no relay " + otherID + " among yours")
	br.shot("07-other-prefix")
	br.open("/console/pairs?q=secret")
	br.waitText("Nothing listed")
	br.open("/console/pairs")
	br.do(chromedp.SetAttributeValue(chromedp.CSS("#add-entity option"), "value", otherID),
		chromedp.SendKeys(chromedp.CSS("#sender"), "intruder@a.example"))
	br.submit(`form[action="/console/pairs"] button`, "There is no relay "+otherID+" among yours")
	br.open("/console/pairs")
	br.do(chromedp.SetAttributeValue(chromedp.CSS(`form[action="/console/pairs/delete"] input[name=entity]`), "value", otherID),
		chromedp.SetAttributeValue(chromedp.CSS(`form[action="/console/pairs/delete"] input[name=key]`), "value", "secret@b.example"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/console/pairs/delete"]').removeAttribute("data-confirm")`))
	br.submit(`form[action="/console/pairs/delete"] button`, "There is no relay "+otherID+" among yours")
	if code, b := n.api("GET", "/v1/pairs?ip="+consoleOther, nil); code != 200 || !bytes.Contains(b, []byte("secret@b.example")) ||
		bytes.Contains(b, []byte("intruder")) {
		t.Errorf("B's pairs after A's edited forms: %d %s", code, b)
	}

	// Expiring soon: pin the pair.
	br.open("/console/expiring")
	br.waitText("dave@umkc.edu")
	br.checkA11y("expiring")
	br.shot("08-expiring")
	br.submit(`form[action="/console/pin"] button`, "Pinned")
	if code, b := n.api("GET", "/v1/pairs?sender=dave@umkc.edu", nil); code != 200 || !bytes.Contains(b, []byte(`"pinned": true`)) {
		t.Errorf("the pair after pinning it in the console: %d %s", code, b)
	}
	br.shot("09-pinned")

	br.open("/console/challenges")
	br.checkA11y("challenges")
	br.shot("10-challenges")
	br.open("/console/lookup?s=dave@umkc.edu&ip=" + consoleRelay)
	br.waitText("dave@umkc.edu is verified via relay " + consoleRelay)
	br.checkA11y("lookup")
	br.shot("11-lookup")

	// Keyboard only: the first Tab reaches the skip link, Tabs reach the
	// navigation, Enter follows a link.
	br.open("/console/relays")
	br.do(chromedp.KeyEvent(kb.Tab))
	if got := value(br, chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Skip to content" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	for range 10 {
		if value(br, chromedp.Evaluate[string](`document.activeElement.textContent`)) == "Pairs" {
			break
		}
		br.do(chromedp.KeyEvent(kb.Tab))
	}
	br.do(chromedp.KeyEvent(kb.Enter))
	br.waitText("Add a pair")

	// Readable without JavaScript: the pages are whole in the HTML itself.
	cookie := value(br, chromedp.Evaluate[string](`document.cookie`)) // HttpOnly: invisible to scripts
	if cookie != "" {
		t.Errorf("the session cookie is readable by scripts: %q", cookie)
	}

	// Sign out: the session is gone on every node (its token is deleted).
	br.submit(".signout button", "You are signed out")
	br.shot("12-signed-out")
	br.open("/console/relays")
	br.waitText("Sign in by mail")
	if _, b := n.api("GET", "/v1/tokens", nil); bytes.Contains(b, []byte("console-session-")) {
		t.Errorf("a console session token survived sign-out: %s", b)
	}
}

// TestConsole_ReadableWithoutJavaScript signs in with a token over plain
// HTTP (no browser, no script) and finds the data in every page's HTML.
func TestConsole_ReadableWithoutJavaScript(t *testing.T) {
	n := startNode(t, "")
	n.mustCLI("relay", "add", consoleRelay, "--contact", consoleContact)
	n.mustCLI("pair", "add", "dave@umkc.edu", consoleRelay)
	c := consoleClient(t, n, n.token)
	for path, want := range map[string]string{
		"/console/relays":     consoleRelay,
		"/console/pairs":      "dave@umkc.edu",
		"/console/expiring":   "Expiring soon",
		"/console/challenges": "Latest challenges",
		"/console/cluster":    "this node",
		"/console/lookup?s=dave@umkc.edu&ip=" + consoleRelay: "is verified via relay",
	} {
		status, body := c.get(path)
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s without JavaScript: %d, want 200 with %q", path, status, want)
		}
	}
}

// consoleHTTP is a console session over plain HTTP.
type consoleHTTP struct {
	t      *testing.T
	base   string
	client *http.Client
}

// consoleClient signs in with token and keeps the session cookie.
func consoleClient(t *testing.T, n *node, token string) *consoleHTTP {
	t.Helper()
	c := &consoleHTTP{t: t, base: "http://" + n.ready.HTTP, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := c.client.PostForm(c.base+"/console/signin/token", map[string][]string{"token": {token}})
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "wlns_console" {
			cookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("token sign-in answered %d with cookie %+v, want 303 and an HttpOnly SameSite=Strict cookie", resp.StatusCode, cookie)
	}
	c.client.Jar = &oneCookie{c: cookie}
	return c
}

func (c *consoleHTTP) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.client.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// oneCookie is a cookie jar holding the session cookie.
type oneCookie struct{ c *http.Cookie }

func (j *oneCookie) SetCookies(*url.URL, []*http.Cookie) {}
func (j *oneCookie) Cookies(*url.URL) []*http.Cookie     { return []*http.Cookie{j.c} }

// httpPost posts a form body and returns the status and body.
func httpPost(t *testing.T, target, form string) (int, string) {
	t.Helper()
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
