package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/wlns/wlns/admin"
)

// Public forms (sign-in by token or by mail, the link's button, the
// look-up page's new challenge) have no session to derive a CSRF token
// from, yet another site's page must not post them: a browser made to
// post an attacker's token or link would be signed in as the attacker
// (login CSRF), and whatever the victim then adds lands in the attacker's
// relays. Each is protected twice: the request must come from the
// console's own pages (sameOrigin), and it must carry the form token of
// the browser's form cookie, a random value set by any console page with
// SameSite=Strict, which another site's post does not send and cannot
// read (double submit). The cookie holds no authority and needs no shared
// key, so a form drawn by one node posts to any other.

// formTokenOf is the token public forms carry for cookie value v.
func formTokenOf(v string) string {
	sum := sha256.Sum256([]byte("wlns console form\x00" + v))
	return hex.EncodeToString(sum[:16])
}

// formWriter carries the form token of the request to render, which
// writes it into the page's public forms (view.Form).
type formWriter struct {
	http.ResponseWriter
	token string
}

// Unwrap lets http.ResponseController reach the connection.
func (fw *formWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

// formCookie returns the request's form cookie value, setting a new one
// on w when the request has none.
func (c *Console) formCookie(w http.ResponseWriter, r *http.Request) (string, error) {
	if v := c.cookieValue(r, formCookieName); len(v) >= 16 && len(v) <= 64 {
		return v, nil
	}
	v, err := admin.NewSecret()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, c.cookie(r, formCookieName, v, 0))
	return v, nil
}

// checkPublicForm refuses a public form without the token of the
// request's form cookie.
func (c *Console) checkPublicForm(r *http.Request) error {
	v := c.cookieValue(r, formCookieName)
	if v == "" || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(formTokenOf(v))) != 1 {
		return errForeignForm
	}
	return nil
}

var errForeignForm = failf(http.StatusForbidden, "This form is stale or did not come from this console: reload the page and try again.")

// sameOrigin refuses a post another site's page made a browser send.
// Browsers name where a request came from in Sec-Fetch-Site; one without
// it (Safari before 16.4, Firefox before 90) is judged by its Origin and
// Referer headers, which name the console itself on its own forms (its
// pages' referrer policy is same-origin), so one naming another host, or
// Origin "null", is refused: "null" is what a post from a page under its
// own no-referrer policy, a sandboxed frame or a data: URL carries, that
// is from a page that hides where it is. A client that sends none of the
// three (curl) is not a browser a page can misuse; the form token still
// stands between it and a victim's browser.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default: // same-site, cross-site
		return false
	}
	for _, h := range []string{"Origin", "Referer"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}
