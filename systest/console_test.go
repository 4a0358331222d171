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
	if status, _ := postForCookie(t, "http://"+n.ready.HTTP+link, nil); status != http.StatusGone {
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

	// A challenge through A's relay: counted, drawn, listed; none of B's.
	if code, b := n.api("POST", "/v1/challenges", map[string]any{"sender": "carol@umkc.edu", "ip": consoleRelay}); code >= 300 {
		t.Fatalf("requesting a challenge: %d %s", code, b)
	}
	br.open("/console/challenges")
	br.waitText("1 challenges in the last 30 days, 0 of them confirmed")
	if bars := value(br, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect.other").length`)); bars != 1 {
		t.Errorf("the chart draws %d bars of open challenges, want 1", bars)
	}
	if text := br.mainText(); !strings.Contains(text, "carol@umkc.edu") {
		t.Errorf("the challenges page lacks the challenge:\n%s", text)
	}
	br.checkA11y("challenges")
	br.shot("10-challenges")
	br.open("/console/lookup?s=dave@umkc.edu&ip=" + consoleRelay)
	br.waitText("dave@umkc.edu is verified via relay " + consoleRelay)
	br.checkA11y("lookup")
	br.shot("11-lookup")
	// Carol's challenge is open: asking for a new one from the look-up
	// page goes through the verification service, which mails no second.
	br.open("/console/lookup?s=carol@umkc.edu&ip=" + consoleRelay)
	br.submit(`form[action="/console/lookup/challenge"] button`, "a new confirmation mail is on its way")
	br.checkA11y("rechallenge")
	br.shot("11a-rechallenge")

	// The registration, group and delegation forms pass the checks; a
	// group member outside the session's prefix is refused in the page.
	for _, p := range []string{"relays/new", "groups", "delegations"} {
		br.open("/console/" + p)
		br.checkA11y(p)
		br.shot("11b-" + strings.ReplaceAll(p, "/", "-"))
	}
	br.open("/console/groups")
	br.do(chromedp.SendKeys(chromedp.CSS("#name"), "pool"), chromedp.SendKeys(chromedp.CSS("#members"), consoleOther))
	br.submit(`form[action="/console/groups"] button`, "lies outside your prefixes")
	br.shot("11c-group-refused")

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
	_, b := n.api("GET", "/v1/relays/"+consoleRelay, nil)
	relay := strconv.FormatUint(entityID(t, b), 10)
	for path, want := range map[string]string{
		"/console/relays/edit?id=" + relay:                   "Save the relay",
		"/console/relays/delete?id=" + relay:                 "Delete the relay <strong>" + consoleRelay + "</strong>?",
		"/console/relays":                                    consoleRelay,
		"/console/pairs":                                     "dave@umkc.edu",
		"/console/expiring":                                  "Expiring soon",
		"/console/challenges":                                "Latest challenges",
		"/console/cluster":                                   "this node",
		"/console/lookup?s=dave@umkc.edu&ip=" + consoleRelay: "is verified via relay",
		"/console/groups":                                    "Member prefixes, one per line",
		"/console/delegations":                               "Delegate a prefix",
		"/console/relays/new":                                "Check and register",
		"/console/suggestions":                               "No group is suggested",
		"/console/activity":                                  "Queries answered per day",
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
	base := "http://" + n.ready.HTTP
	status, cookie := postForCookie(t, base+"/console/signin/token", url.Values{"token": {token}})
	if status != http.StatusSeeOther || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("token sign-in answered %d with cookie %+v, want 303 and an HttpOnly SameSite=Strict cookie", status, cookie)
	}
	return withCookie(t, n, cookie)
}

// withCookie is a console session on n with the session cookie.
func withCookie(t *testing.T, n *node, cookie *http.Cookie) *consoleHTTP {
	return &consoleHTTP{t: t, base: "http://" + n.ready.HTTP, client: &http.Client{Jar: &oneCookie{c: cookie},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// postForCookie posts a public form as the console's own page does (with
// the page's form cookie and token), without following the redirect, and
// returns the status and the session cookie set, if any.
func postForCookie(t *testing.T, target string, form url.Values) (int, *http.Cookie) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	formCookie, token := publicForm(t, u.Scheme+"://"+u.Host)
	f := url.Values{"csrf": {token}}
	for k, v := range form {
		f[k] = v
	}
	req, err := http.NewRequest("POST", target, strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(formCookie)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if strings.TrimPrefix(ck.Name, "__Host-") == "wlns_console" {
			return resp.StatusCode, ck
		}
	}
	return resp.StatusCode, nil
}

var formTokenRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// publicForm reads the console's sign-in page at base as a new browser
// would: the form cookie it sets and the token its forms carry.
func publicForm(t *testing.T, base string) (*http.Cookie, string) {
	t.Helper()
	resp, err := http.Get(base + "/console/signin")
	if err != nil {
		t.Fatalf("GET the sign-in page: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := formTokenRE.FindSubmatch(b)
	for _, ck := range resp.Cookies() {
		if strings.TrimPrefix(ck.Name, "__Host-") == "wlns_console_form" && m != nil {
			return ck, string(m[1])
		}
	}
	t.Fatalf("the sign-in page set no form cookie or carries no form token: %d %v\n%s", resp.StatusCode, resp.Cookies(), b)
	return nil, ""
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

// post sends a form with the session's CSRF token (read from the relays
// page) and returns the status.
func (c *consoleHTTP) post(path string, form url.Values) int {
	c.t.Helper()
	_, page := c.get("/console/relays")
	m := formTokenRE.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF token in the relays page:\n%s", page)
	}
	form.Set("csrf", m[1])
	resp, err := c.client.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitGet polls GET path (bounded) until it answers status.
func (c *consoleHTTP) waitGet(path string, status int) string {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, body := c.get(path)
		if got == status {
			return body
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("GET %s%s answers %d, want %d:\n%s", c.base, path, got, status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsole_ClusterSessionsAndOperatorView runs three nodes: a link
// mailed by one node is used on a second, cannot be used again on the
// third, and the session works on every node until it signs out on one;
// an admin sees the three members and the leader in Chromium.
func TestConsole_ClusterSessionsAndOperatorView(t *testing.T) {
	sink := startSink(t)
	vn := startVerifyCluster(t, sink.addr)
	nodes := []*node{vn[0].node, vn[1].node, vn[2].node}
	leader := leaderOf(t, nodes, 30*time.Second)
	if code, b := leader.api("POST", "/v1/relays", map[string]any{"ip": consoleRelay, "contact": consoleContact}); code != 201 {
		t.Fatalf("registering the relay: %d %s", code, b)
	}
	if status, _ := postForCookie(t, "http://"+nodes[0].ready.HTTP+"/console/signin/link", url.Values{"relay": {consoleRelay}}); status != 200 {
		t.Fatalf("asking node 1 for a link: %d", status)
	}
	msg := sink.waitCount(t, 1, 20*time.Second)[0]
	body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(msg.data)))
	if err != nil {
		t.Fatal(err)
	}
	m := linkRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no link in the mail:\n%s", body)
	}
	var status int
	var cookie *http.Cookie
	deadline := time.Now().Add(15 * time.Second)
	for status, cookie = postForCookie(t, "http://"+nodes[1].ready.HTTP+string(m[1]), nil); status == http.StatusGone && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // node 2 has not applied the link token yet
		status, cookie = postForCookie(t, "http://"+nodes[1].ready.HTTP+string(m[1]), nil)
	}
	if status != http.StatusSeeOther || cookie == nil {
		t.Fatalf("using node 1's link on node 2: %d, cookie %v", status, cookie)
	}
	if status, _ := postForCookie(t, "http://"+nodes[2].ready.HTTP+string(m[1]), nil); status != http.StatusGone {
		t.Errorf("using the link again on node 3: %d, want 410", status)
	}
	for i, n := range nodes {
		if body := withCookie(t, n, cookie).waitGet("/console/relays", 200); !strings.Contains(body, consoleRelay) {
			t.Errorf("node %d: the session's relays page lacks %s", i+1, consoleRelay)
		}
	}
	if status := withCookie(t, nodes[2], cookie).post("/console/signout", url.Values{}); status != 200 {
		t.Fatalf("signing out on node 3: %d", status)
	}
	withCookie(t, nodes[0], cookie).waitGet("/console/relays", http.StatusSeeOther)

	br := newBrowser(t, "http://"+nodes[1].ready.HTTP, screenshotDir(t))
	br.open("/console/signin")
	br.do(chromedp.SendKeys(chromedp.CSS("#token"), nodes[1].token))
	br.submit(`form[action="/console/signin/token"] button`, "Your relays and groups")
	br.open("/console/cluster")
	text := br.mainText()
	for _, want := range []string{"v1", "v2", "v3", "leader", "(this node)", "Tokens", "0 pending, 0 failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("the cluster page lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "leader") != 1 {
		t.Errorf("the cluster page names %d leaders:\n%s", strings.Count(text, "leader"), text)
	}
	br.checkA11y("cluster")
	br.shot("13-cluster")
}
