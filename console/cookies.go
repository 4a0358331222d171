package console

import "net/http"

// The console's cookies: the session's and the public forms'. Served
// securely (Console.secure) they take the __Host- prefix, which a browser
// accepts only from a secure origin, with Secure, Path=/ and no Domain:
// neither a sibling host of the domain nor anyone on a plain-HTTP path to
// the browser can plant or overwrite one, so the form token's cookie and
// the session in it are the console's own (a planted form cookie whose
// token the attacker read from a page of their own would pass the double
// submit; a planted session would sign the victim in as the attacker).
// Over plain HTTP they keep their bare names, limited to the console's
// path.
const (
	cookieName     = "wlns_console"
	formCookieName = "wlns_console_form"
	hostPrefix     = "__Host-"
)

// cookie is the console cookie name for r holding value, kept for maxAge
// seconds (0: for the browser session, -1: deleted).
func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: Path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode}
	if c.secure(r) {
		ck.Name, ck.Path, ck.Secure = hostPrefix+name, "/", true
	}
	return ck
}

// cookieValue is the value of r's console cookie name under the name the
// console sets it by for r: served securely, a cookie without the prefix
// is not the console's and is ignored.
func (c *Console) cookieValue(r *http.Request, name string) string {
	if c.secure(r) {
		name = hostPrefix + name
	}
	ck, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}
