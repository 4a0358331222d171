package verify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func TestPages_GetChangesNothing(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("alice@example.com", relayIP)
	before := e.store.appliedCount()
	cases := []struct {
		action string
		says   []string
	}{
		{"confirm", []string{"Whitelist alice@example.com for mail sent through relay mx1.example.net (198.51.100.7)", `<form method="post">`}},
		{"forgery", []string{"did not send mail through relay mx1.example.net (198.51.100.7)", "30 days", `<form method="post">`}},
		{"list", []string{"mailing-list server", "postmaster@example.com", `<form method="post">`}},
	}
	for _, c := range cases {
		for _, path := range []string{"/verify/" + c.action + "/" + tok, "/verify/" + c.action + "/" + strings.ToUpper(tok)} {
			r := e.page("GET", path)
			if r.status != http.StatusOK || !contains(r.body, c.says...) {
				t.Fatalf("GET %s: %d\n%s", path, r.status, r.body)
			}
			checkPageHeaders(t, r)
		}
	}
	if n := e.store.appliedCount(); n != before {
		t.Fatalf("GET applied %d commands", n-before)
	}
	if got := e.store.ChallengeByID(c.ID); got.State != record.ChallengeOpen {
		t.Fatalf("after GETs the challenge is %s", got.State)
	}
}

// HEAD answers as GET does over a real HTTP server: the same status and
// headers, the body's length, and no body; it changes nothing.
func TestPages_HeadAnswersLikeGet(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("alice@example.com", relayIP)
	srv := httptest.NewServer(e.svc.Handler())
	defer srv.Close()
	before := e.store.appliedCount()
	for _, path := range []string{"/verify/confirm/" + tok, "/verify/confirm/unknown"} {
		get, getBody := fetchPage(t, http.MethodGet, srv.URL+path)
		head, headBody := fetchPage(t, http.MethodHead, srv.URL+path)
		if head.StatusCode != get.StatusCode || len(headBody) != 0 || head.ContentLength != int64(len(getBody)) {
			t.Fatalf("HEAD %s: %d, %d body bytes, Content-Length %d; GET: %d, %d bytes",
				path, head.StatusCode, len(headBody), head.ContentLength, get.StatusCode, len(getBody))
		}
		for _, k := range []string{"Content-Type", "Cache-Control", "Content-Security-Policy", "X-Frame-Options"} {
			if head.Header.Get(k) != get.Header.Get(k) {
				t.Errorf("HEAD %s: %s %q, GET %q", path, k, head.Header.Get(k), get.Header.Get(k))
			}
		}
	}
	if n := e.store.appliedCount(); n != before {
		t.Fatalf("HEAD applied %d commands", n-before)
	}
	if got := e.store.ChallengeByID(c.ID); got.State != record.ChallengeOpen {
		t.Fatalf("after HEAD the challenge is %s", got.State)
	}
}

func fetchPage(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func checkPageHeaders(t *testing.T, r pageResp) {
	t.Helper()
	for k, v := range map[string]string{
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
		"Content-Type":    "text/html; charset=utf-8",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !contains(csp, "default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "style-src 'sha256-") {
		t.Errorf("CSP %q", csp)
	}
}

func TestPages_PostConfirmsOnce(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("alice@example.com", groupIP)
	r := e.page("POST", "/verify/confirm/"+tok)
	if r.status != http.StatusOK || !contains(r.body, "alice@example.com is now whitelisted", "mx-group (192.0.2.1)") {
		t.Fatalf("POST confirm: %d\n%s", r.status, r.body)
	}
	checkPageHeaders(t, r)
	p := e.store.Index().Load().Pair(e.group, []byte("alice@example.com"))
	if p == nil || p.Method != "challenge-link" {
		t.Fatalf("pair after confirming: %+v", p)
	}
	if got := e.store.ChallengeByID(c.ID); got.State != record.ChallengeConfirmed || got.Method != "link" || got.ClosedBy != "node-1" {
		t.Fatalf("challenge after confirming: %+v", got)
	}
	for _, m := range []string{"POST", "GET"} {
		for _, a := range []string{"confirm", "forgery", "list"} {
			if r := e.page(m, "/verify/"+a+"/"+tok); r.status != http.StatusNotFound || !strings.Contains(r.body, "unknown, was already used, or has expired") {
				t.Fatalf("%s %s of a used token: %d\n%s", m, a, r.status, r.body)
			}
		}
	}
	if o := e.request("alice@example.com", groupIP2); o.Result != Listed {
		t.Fatalf("request after confirming: %+v", o)
	}
}

func TestPages_NotFoundAndMethods(t *testing.T) {
	e := newEnv(t)
	_, tok := e.mustSend("alice@example.com", groupIP)
	before := e.store.appliedCount()
	other, _ := newToken()
	for _, c := range []struct{ method, path string }{
		{"POST", "/verify/confirm"},
		{"POST", "/verify/confirm/"},
		{"POST", "/verify/"},
		{"POST", "/verify/" + tok},
		{"POST", "/verify/confirm/" + other},
		{"POST", "/verify/confirm/" + tok + "/x"},
		{"POST", "/verify/delete/" + tok},
		{"GET", "/verify/confirm/" + tok[:10]},
	} {
		if r := e.page(c.method, c.path); r.status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c.method, c.path, r.status)
		}
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH"} {
		r := e.page(m, "/verify/confirm/"+tok)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST" {
			t.Errorf("%s: %d, Allow %q", m, r.status, r.header.Get("Allow"))
		}
	}
	if n := e.store.appliedCount(); n != before {
		t.Fatalf("%d commands applied by refused requests", n-before)
	}
}

func TestPages_ExpiredTokenIsNotFound(t *testing.T) {
	e := newEnv(t)
	_, tok := e.mustSend("alice@example.com", groupIP)
	e.now = e.now.Add(DefaultTTL)
	if r := e.page("POST", "/verify/confirm/"+tok); r.status != http.StatusNotFound {
		t.Fatalf("POST of an expired token: %d", r.status)
	}
	if e.store.Index().Load().Pair(e.group, []byte("alice@example.com")) != nil {
		t.Fatal("an expired token confirmed")
	}
}

func TestPages_ForgerySuppressesChallenges(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("alice@example.com", groupIP)
	if r := e.page("POST", "/verify/forgery/"+tok); r.status != http.StatusOK || !strings.Contains(r.body, "will not write to alice@example.com") {
		t.Fatalf("POST forgery: %d\n%s", r.status, r.body)
	}
	if got := e.store.ChallengeByID(c.ID); got.State != record.ChallengeForged {
		t.Fatalf("state %s", got.State)
	}
	e.now = e.now.Add(DefaultTTL) // past the limits' window, inside the suppression
	if o := e.request("alice@example.com", groupIP); o.Result != Refused || !strings.Contains(o.Reason, "forgery") {
		t.Fatalf("request after a forgery report: %+v", o)
	}
	if o := e.request("alice@example.com", relayIP); o.Result != Sent {
		t.Fatalf("request through another relay: %+v", o)
	}
}

func TestPages_ListReportAsksThePostmaster(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("list-news@example.com", groupIP)
	r := e.page("POST", "/verify/list/"+tok)
	if r.status != http.StatusOK || !strings.Contains(r.body, "We asked postmaster@example.com") {
		t.Fatalf("POST list: %d\n%s", r.status, r.body)
	}
	if got := e.store.ChallengeByID(c.ID); got.State != record.ChallengeList {
		t.Fatalf("state %s", got.State)
	}
	ms := e.sink.messages()
	if len(ms) != 2 || ms[1].to[0] != "postmaster@example.com" || ms[1].from != "" || !strings.Contains(ms[1].data, "VERP") {
		t.Fatalf("mails %+v", ms)
	}
	vtok := tokenIn(t, ms[1].data)
	g := e.page("GET", "/verify/confirm/"+vtok)
	if g.status != http.StatusOK || !strings.Contains(g.body, "list server at mx-group may send with VERP return paths for domain example.com") {
		t.Fatalf("GET VERP confirm: %d\n%s", g.status, g.body)
	}
	if r := e.page("GET", "/verify/list/"+vtok); r.status != http.StatusNotFound {
		t.Fatalf("a VERP challenge offers a list report: %d", r.status)
	}
	if r := e.page("POST", "/verify/confirm/"+vtok); r.status != http.StatusOK {
		t.Fatalf("POST VERP confirm: %d\n%s", r.status, r.body)
	}
	if e.store.Index().Load().Verp(e.group, []byte("example.com")) == nil {
		t.Fatal("no VERP source after the postmaster confirmed")
	}
	if o := e.request("other@example.com", groupIP); o.Result != Refused || !o.Unchallengeable {
		t.Fatalf("request for the VERP domain: %+v", o)
	}
}

func TestPages_ListReportWhenThePostmasterWasAsked(t *testing.T) {
	e := newEnv(t)
	_, tok1 := e.mustSend("a@example.com", groupIP)
	_, tok2 := e.mustSend("b@example.com", groupIP)
	e.page("POST", "/verify/list/"+tok1)
	r := e.page("POST", "/verify/list/"+tok2)
	if r.status != http.StatusOK || !strings.Contains(r.body, "could not ask the postmaster") {
		t.Fatalf("second list report: %d\n%s", r.status, r.body)
	}
	if n := len(e.sink.messages()); n != 3 {
		t.Fatalf("%d mails, want 3 (two challenges, one to the postmaster)", n)
	}
}

func TestPages_EscapeHTML(t *testing.T) {
	e := newEnv(t)
	e.mustApply(command.EntityPut, command.EntityBody{Name: "<script>alert(1)</script>", Group: true, Prefixes: []string{"192.0.2.64/28"}})
	_, tok := e.mustSend("alice@example.com", netip.MustParseAddr("192.0.2.65"))
	r := e.page("GET", "/verify/confirm/"+tok)
	if strings.Contains(r.body, "<script>") || !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt; (192.0.2.65)") {
		t.Fatalf("relay name not escaped:\n%s", r.body)
	}
}

func TestPages_StoreDownKeepsTheToken(t *testing.T) {
	e := newEnv(t)
	_, tok := e.mustSend("alice@example.com", groupIP)
	e.store.err = errNoQuorum
	if r := e.page("POST", "/verify/confirm/"+tok); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "link still works") {
		t.Fatalf("POST with the store down: %d\n%s", r.status, r.body)
	}
	e.store.err = nil
	if r := e.page("POST", "/verify/confirm/"+tok); r.status != http.StatusOK {
		t.Fatalf("POST once the store is back: %d\n%s", r.status, r.body)
	}
}
