package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// send posts form to path with the given headers and cookies (name,
// value, …), as a browser with no session.
func (r *rig) send(path string, form url.Values, header map[string]string, cookies ...string) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest("POST", "http://wl.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.200:4000"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(cookies); i += 2 {
		req.AddCookie(&http.Cookie{Name: cookies[i], Value: cookies[i+1]})
	}
	w := httptest.NewRecorder()
	r.c.ServeHTTP(w, req)
	return w
}

func sessionCookie(w *httptest.ResponseRecorder) string {
	for _, ck := range w.Result().Cookies() {
		if ck.Name == cookieName && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

// TestPublicForms_RefuseLoginCSRF posts each public form as another
// site's page would make a browser post it, and without the form token:
// nobody is signed in, no link is mailed or used. A browser tricked into
// posting an attacker's token was signed in as the attacker before.
func TestPublicForms_RefuseLoginCSRF(t *testing.T) {
	r := newRig(t)
	good := formTokenOf(rigFormCookie)
	mine := []string{formCookieName, rigFormCookie}
	forms := map[string]url.Values{
		"/console/signin/token": {"token": {adminSecret}},
		"/console/signin/link":  {"relay": {"192.0.2.4"}},
	}
	for path, form := range forms {
		for _, c := range []struct {
			name    string
			header  map[string]string
			token   string
			cookies []string
		}{
			{"another site's Origin", map[string]string{"Origin": "https://evil.example"}, good, mine},
			{"another site's Referer", map[string]string{"Referer": "https://evil.example/login.html"}, good, mine},
			{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "null"}, good, mine},
			{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}, good, mine},
			{"a page hiding its origin, no Sec-Fetch-Site", map[string]string{"Origin": "null"}, good, mine},
			{"no token", nil, "", mine},
			{"no form cookie", nil, good, nil},
			{"another cookie's token", nil, formTokenOf("another-browser-cookie-value"), mine},
		} {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				f := url.Values{"csrf": {c.token}}
				for k, v := range form {
					f[k] = v
				}
				w := r.send(path, f, c.header, c.cookies...)
				if w.Code != http.StatusForbidden || sessionCookie(w) != "" {
					t.Errorf("%d (session cookie %q), want 403 and no session:\n%s", w.Code, sessionCookie(w), w.Body)
				}
			})
		}
	}
	if n := len(r.mail.all()); n != 0 {
		t.Fatalf("%d sign-in links mailed for refused posts", n)
	}
	// The console's own pages: the same post with the page's token.
	if w := r.send("/console/signin/token", url.Values{"token": {adminSecret}, "csrf": {good}},
		map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://wl.test"}, mine...); w.Code != http.StatusSeeOther || sessionCookie(w) == "" {
		t.Errorf("the console's own sign-in form: %d, want 303 with a session", w.Code)
	}
	// A link posted by another site's page is not used up.
	r.publicPost("/console/signin/link", url.Values{"relay": {"192.0.2.4"}})
	link := linkPath.FindString(r.mail.all()[0])
	if w := r.send(link, url.Values{"csrf": {good}}, map[string]string{"Origin": "https://evil.example"}, mine...); w.Code != http.StatusForbidden {
		t.Errorf("another site's post of a link: %d, want 403", w.Code)
	}
	if w := r.send(link, url.Values{}, nil, mine...); w.Code != http.StatusForbidden {
		t.Errorf("a link posted without the token: %d, want 403", w.Code)
	}
	if w := r.publicPost(link, nil); w.Code != http.StatusSeeOther || sessionCookie(w) == "" {
		t.Errorf("the link's own button after the refused posts: %d, want 303 with a session", w.Code)
	}
}

// TestPublicForms_PagesSetTheFormCookie: a first visit gets the form
// cookie (HttpOnly, SameSite=Strict, the console's path) and a page
// whose forms carry its token.
func TestPublicForms_PagesSetTheFormCookie(t *testing.T) {
	r := newRig(t)
	req := httptest.NewRequest("GET", "/console/signin", nil)
	w := httptest.NewRecorder()
	r.c.ServeHTTP(w, req)
	var ck *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == formCookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != Path || ck.Secure {
		t.Fatalf("form cookie %+v, want HttpOnly, SameSite=Strict, path %s, not Secure over plain HTTP", ck, Path)
	}
	if n := strings.Count(w.Body.String(), `name="csrf" value="`+formTokenOf(ck.Value)+`"`); n != 2 {
		t.Errorf("the sign-in page carries the cookie's token in %d forms, want 2:\n%s", n, w.Body)
	}
	// A browser that has the cookie keeps it.
	if w := r.do("GET", "/console/lookup", "", nil); len(w.Result().Cookies()) != 0 {
		t.Errorf("a page set cookies %v on a browser that has its form cookie", w.Result().Cookies())
	}
}

// TestForms_BodiesAreBounded: a form body past 64 KiB is refused with 413
// before anything is read into a form, public or with a session.
func TestForms_BodiesAreBounded(t *testing.T) {
	r := newRig(t)
	big := strings.Repeat("a", maxFormBytes)
	if w := r.publicPost("/console/signin/token", url.Values{"token": {big}}); w.Code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(w.Body.String(), "too large") {
		t.Errorf("a 64-KiB token: %d, want 413 saying so:\n%s", w.Code, w.Body)
	}
	cookie, csrf := r.signIn(adminSecret)
	members := strings.Repeat("192.0.2.0/24\n", maxFormBytes/13+1)
	w := r.do("POST", "/console/groups", cookie, url.Values{"csrf": {csrf}, "name": {"huge"}, "members": {members}, "contact": {"pm@a.example"}})
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 64-KiB group form: %d, want 413:\n%s", w.Code, w.Body)
	}
	if n := r.st.Index().Load().Counts().Entities; n != 2 {
		t.Errorf("%d entities after the refused form, want 2", n)
	}
}

// TestSessionForms_OldBrowsersOwnFormsOnly: a browser without
// Sec-Fetch-Site (Safari before 16.4, Firefox before 90) posts a session
// form: from the console's own page it names the console in Origin (the
// pages' referrer policy is same-origin) and is served; from a page that
// hides its origin (Origin "null": its own no-referrer policy, a sandboxed
// frame) it is refused, though the session's token came with it. Both
// were served before, the console's own forms sending "null".
func TestSessionForms_OldBrowsersOwnFormsOnly(t *testing.T) {
	r := newRig(t)
	if got := r.do("GET", "/console/signin", "", nil).Header().Get("Referrer-Policy"); got != "same-origin" {
		t.Fatalf("Referrer-Policy %q, want same-origin: the console's own forms must name it", got)
	}
	cookie, csrf := r.signIn(adminSecret)
	for _, c := range []struct {
		group, members string
		header         map[string]string
		want           int
	}{
		{"hidden", "203.0.113.0/28", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"hiddenref", "203.0.113.16/28", map[string]string{"Origin": "null", "Referer": "http://wl.test/console/groups"}, http.StatusForbidden},
		{"own", "203.0.113.32/28", map[string]string{"Origin": "http://wl.test"}, http.StatusSeeOther},
		{"ownref", "203.0.113.48/28", map[string]string{"Referer": "http://wl.test/console/groups"}, http.StatusSeeOther},
	} {
		form := url.Values{"csrf": {csrf}, "name": {c.group}, "members": {c.members}, "contact": {"pm@c.example"}}
		w := r.send("/console/groups", form, c.header, cookieName, cookie, formCookieName, rigFormCookie)
		if made := r.groupNamed(c.group) != nil; w.Code != c.want || made != (c.want == http.StatusSeeOther) {
			t.Errorf("%v: %d, group made: %v; want %d", c.header, w.Code, made, c.want)
		}
	}
}

// TestCookies_SecureOnesAreHostPrefixed: served securely (over TLS, or
// behind a TLS proxy), the form and session cookies are __Host-
// (Secure, Path=/), which no sibling host or plain-HTTP path to the
// browser can plant; a bare-named cookie there is not the console's: a
// form cookie planted by another host, with the token the attacker read
// from their own page, signed the victim in as the attacker before.
func TestCookies_SecureOnesAreHostPrefixed(t *testing.T) {
	for _, c := range []struct {
		name  string
		tls   bool
		proxy bool
	}{{"over TLS", true, false}, {"behind a TLS proxy", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			r.c.cfg.SecureCookies = c.proxy
			req := func(path string, form url.Values, cookies ...*http.Cookie) *http.Response {
				method := "GET"
				if form != nil {
					method = "POST"
				}
				q := httptest.NewRequest(method, "http://wl.test"+path, strings.NewReader(form.Encode()))
				q.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				q.RemoteAddr = "192.0.2.200:4000"
				if c.tls {
					q.TLS = &tls.ConnectionState{}
				}
				for _, ck := range cookies {
					q.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				r.c.ServeHTTP(w, q)
				return w.Result()
			}
			named := func(resp *http.Response, name string) *http.Cookie {
				for _, ck := range resp.Cookies() {
					if ck.Name == name {
						return ck
					}
				}
				return nil
			}
			wantHost := func(ck *http.Cookie, name string) {
				t.Helper()
				if ck == nil || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
					t.Fatalf("%s cookie %+v, want Secure, Path=/, no Domain, HttpOnly, SameSite=Strict", name, ck)
				}
			}
			form := named(req("/console/signin", nil), "__Host-"+formCookieName)
			wantHost(form, "__Host-"+formCookieName)
			signin := url.Values{"token": {adminSecret}, "csrf": {formTokenOf(rigFormCookie)}}
			planted := &http.Cookie{Name: formCookieName, Value: rigFormCookie}
			if resp := req("/console/signin/token", signin, planted); resp.StatusCode != http.StatusForbidden || named(resp, "__Host-"+cookieName) != nil {
				t.Errorf("a planted bare form cookie: %d, want 403 and no session", resp.StatusCode)
			}
			signin.Set("csrf", formTokenOf(form.Value))
			resp := req("/console/signin/token", signin, form)
			session := named(resp, "__Host-"+cookieName)
			wantHost(session, "__Host-"+cookieName)
			if resp := req("/console/relays", nil, &http.Cookie{Name: cookieName, Value: session.Value}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("the session under its bare name: %d, want 303 to sign in", resp.StatusCode)
			}
			if resp := req("/console/relays", nil, session); resp.StatusCode != http.StatusOK {
				t.Errorf("the session: %d, want 200", resp.StatusCode)
			}
			out := req("/console/signout", url.Values{"csrf": {csrfOf(session.Value)}}, session, form)
			if gone := named(out, "__Host-"+cookieName); gone == nil || gone.MaxAge >= 0 || gone.Path != "/" {
				t.Errorf("signing out: %d, session cookie %+v, want it deleted at Path=/", out.StatusCode, gone)
			}
		})
	}
}
