package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/record"
)

// caller is the authenticated token of a request; nil token on public routes.
type caller struct {
	tok *record.Token
}

// name is recorded as the By of what the caller writes.
func (c *caller) name() string {
	if c == nil || c.tok == nil {
		return ""
	}
	return c.tok.Name
}

// HashSecret returns the hex SHA-256 under which a token secret is stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SignInLinkPrefix starts the name of the console's one-time sign-in link
// tokens. Such a token only starts a console session, once: the API
// refuses it as a bearer token, so a mailed link (or a mail scanner that
// fetched it) cannot act on the API while it is valid.
const SignInLinkPrefix = "console-link-"

// authorize finds the request's token and checks it against acc.
func (a *API) authorize(r *http.Request, acc access) (*caller, error) {
	if acc == public {
		return &caller{}, nil
	}
	secret, ok := bearer(r)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, "missing bearer token")
	}
	hash := HashSecret(secret)
	tok := a.store.Token(hash)
	if tok == nil || subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 {
		if a.cfg.Ready != nil {
			// A node still replaying its log (or cut off from the leader)
			// may not know a token created meanwhile: that is "try later
			// or elsewhere", not "your token is wrong".
			if err := a.cfg.Ready(r.Context()); err != nil {
				return nil, errorf(http.StatusServiceUnavailable, "token not known on this node, which is not caught up with the cluster (%v); retry, or ask another node", err)
			}
		}
		return nil, errorf(http.StatusUnauthorized, "invalid token")
	}
	if strings.HasPrefix(tok.Name, SignInLinkPrefix) {
		return nil, errorf(http.StatusUnauthorized, "token %q is a console sign-in link, not an API token", tok.Name)
	}
	c := &caller{tok: tok}
	switch {
	case acc == adminAccess && tok.Role != record.RoleAdmin:
		return nil, errorf(http.StatusForbidden, "token %q (role %s) may not %s: only an admin token may", tok.Name, tok.Role, adminAction(r))
	case acc == challengeAccess && tok.Role != record.RoleAdmin && tok.Role != record.RoleMTA:
		return nil, errorf(http.StatusForbidden, "token %q (role %s) may not request challenges", tok.Name, tok.Role)
	case acc == writeAccess && tok.Role != record.RoleAdmin && tok.Role != record.RolePostmaster:
		return nil, errorf(http.StatusForbidden, "token %q (role %s) may only read", tok.Name, tok.Role)
	}
	return c, nil
}

// adminAction names what an admin-only request does, for the refusal.
func adminAction(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v1/tokens"):
		return "manage tokens"
	case p == "/v1/backup":
		return "take backups"
	case p == "/v1/restore":
		return "restore backups"
	case strings.HasPrefix(p, "/v1/cluster/"):
		return "change cluster membership"
	}
	return r.Method + " " + p
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

// mayWrite checks that the caller may write records for all of prefixes:
// an admin may write anything, a postmaster only inside its token's prefixes.
func (c *caller) mayWrite(prefixes ...netip.Prefix) error {
	if c.tok.Role == record.RoleAdmin {
		return nil
	}
	if c.tok.Role != record.RolePostmaster {
		return errorf(http.StatusForbidden, "token %q may only read", c.tok.Name)
	}
	for _, p := range prefixes {
		if !within(p, c.tok.Prefixes) {
			return errorf(http.StatusForbidden, "token %q may not write for %s: outside its prefixes", c.tok.Name, p)
		}
	}
	return nil
}

// mayWriteEntity checks that the caller may write records of entity e: every
// member of e must be inside the caller's prefixes.
func (c *caller) mayWriteEntity(e *record.Entity) error {
	return c.mayWrite(e.Prefixes...)
}

// Within reports whether p lies inside one of scope: the rule a
// postmaster token's prefixes are checked with (the web console shares it).
func Within(p netip.Prefix, scope []netip.Prefix) bool { return within(p, scope) }

// within reports whether p lies inside one of scope.
func within(p netip.Prefix, scope []netip.Prefix) bool {
	for _, s := range scope {
		if s.Addr().Is4() == p.Addr().Is4() && s.Bits() <= p.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
