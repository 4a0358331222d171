package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Console token names: the sessions and the magic links are API tokens
// of the existing kinds, recognised by these prefixes.
const (
	sessionPrefix = "console-session-"
	linkPrefix    = admin.SignInLinkPrefix
)

// session is a signed-in browser: its token, found by the cookie.
type session struct {
	tok    *record.Token
	secret string
	// Who names the person: the pasted token's name or the relay contact
	// a link was mailed to.
	Who string
	// CSRF is the form token: derived from the session secret, so every
	// node knows it and nobody without the cookie does.
	CSRF string
}

// Admin reports whether the session has the admin role.
func (s *session) Admin() bool { return s.tok.Role == record.RoleAdmin }

// sees reports whether the session may see and change entity e: an admin
// all of them, a postmaster those whose every member lies inside its
// prefixes (the admin API's rule for writes, kept for reads too).
func (s *session) sees(e *record.Entity) bool {
	if e == nil {
		return false
	}
	if s.Admin() {
		return true
	}
	if len(e.Prefixes) == 0 {
		return false
	}
	for _, p := range e.Prefixes {
		if !admin.Within(p, s.tok.Prefixes) {
			return false
		}
	}
	return true
}

// seesRef is sees for an entity of the index, read in place: the pages
// that list entities ask it of every one, and a copy of each costs half a
// second at 1M relays.
func (s *session) seesRef(e index.EntityRef) bool {
	if !e.Found() {
		return false
	}
	if s.Admin() {
		return true
	}
	if p, ok := e.LonePrefix(); ok {
		return admin.Within(p, s.tok.Prefixes)
	}
	n, inside := 0, true
	e.EachPrefix(func(p netip.Prefix) bool {
		n++
		inside = admin.Within(p, s.tok.Prefixes)
		return inside
	})
	return n > 0 && inside
}

func (s *session) checkCSRF(got string) bool {
	return s != nil && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

func csrfOf(secret string) string {
	sum := sha256.Sum256([]byte("wlns console csrf\x00" + secret))
	return hex.EncodeToString(sum[:16])
}

// session returns the request's live session, or nil.
func (c *Console) session(r *http.Request) *session {
	secret := c.cookieValue(r, cookieName)
	if secret == "" {
		return nil
	}
	tok := c.store.Token(admin.HashSecret(secret))
	if tok == nil || !strings.HasPrefix(tok.Name, sessionPrefix) || c.expired(tok, c.cfg.SessionTTL) {
		return nil
	}
	if tok.Role != record.RoleAdmin && tok.Role != record.RolePostmaster {
		return nil
	}
	return &session{tok: tok, secret: secret, Who: c.whoOf(tok.Name), CSRF: csrfOf(secret)}
}

func (c *Console) expired(tok *record.Token, ttl time.Duration) bool {
	return c.cfg.Now().After(time.Unix(tok.Created, 0).Add(ttl))
}

// A session token's name says who signed in without naming a person, as
// token names are logged and listed: console-session-<nonce>-token-<the
// pasted token's name>, or console-session-<nonce>-relay-<entity ID> for a
// link, whose relay's contact is looked up when the session is used.
const (
	byToken = "token-"
	byLink  = "relay-"
)

// whoOf names the person of a session token: the pasted token's name, or
// the current contact of the relay or group a link was mailed for.
func (c *Console) whoOf(name string) string {
	_, who, _ := strings.Cut(strings.TrimPrefix(name, sessionPrefix), "-")
	if ref, ok := strings.CutPrefix(who, byLink); ok {
		id, _ := strconv.ParseUint(ref, 10, 64)
		if e := c.store.Index().Load().EntityRef(id); e.Found() && e.Contact() != "" {
			return e.Contact()
		}
		return "postmaster of relay " + ref
	}
	return strings.TrimPrefix(who, byToken)
}

// startSession creates a session token of role and prefixes for who (a
// token name after byToken, an entity ID after byLink) and sets its
// cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, role record.Role, prefixes []netip.Prefix, who string) error {
	secret, err := admin.NewSecret()
	if err != nil {
		return err
	}
	nonce := admin.HashSecret(secret)[:16]
	if err := c.putToken(r.Context(), sessionPrefix+nonce+"-"+who, secret, role, prefixes); err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(r, cookieName, secret, int(c.cfg.SessionTTL.Seconds())))
	return nil
}

// secure reports whether the console's cookies are marked Secure: over
// TLS, and on every request when the console is served behind TLS
// (Config.SecureCookies).
func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.cfg.SecureCookies }

// putToken proposes a token named name for secret.
func (c *Console) putToken(ctx context.Context, name, secret string, role record.Role, prefixes []netip.Prefix) error {
	body := command.TokenBody{Name: name, Hash: admin.HashSecret(secret), Role: string(role)}
	for _, p := range prefixes {
		body.Prefixes = append(body.Prefixes, p.String())
	}
	_, err := c.propose(ctx, command.TokenPut, body)
	return err
}

// deleteToken proposes the token's deletion; a token already gone is a
// *userError (the link was used).
func (c *Console) deleteToken(ctx context.Context, name string) error {
	_, err := c.propose(ctx, command.TokenDelete, command.TokenBody{Name: name})
	return err
}

// spooler is implemented by a store that takes writes while the cluster
// has no quorum and commits them later (raftstore.Store).
type spooler interface {
	ApplyOrSpool(ctx context.Context, e *command.Envelope) (res command.Result, spooled bool, err error)
	SpoolCounts() (pending, failed int)
}

// errSpooled is returned by propose for a write the node spooled: taken,
// to be committed once the quorum is back.
var errSpooled = errors.New("spooled")

// propose applies a command with the console's clock and a random
// request ID; a rejection comes back as a *userError with its message.
// Pairs and VERP sources are spooled like the API's when the store cannot
// reach a quorum (errSpooled).
func (c *Console) propose(ctx context.Context, t command.Type, body any) (command.Result, error) {
	id, err := admin.NewSecret()
	if err != nil {
		return command.Result{}, err
	}
	env, err := command.New(t, c.cfg.Now().Unix(), id[:32], body)
	if err != nil {
		return command.Result{}, fmt.Errorf("building a %s command: %w", t, err)
	}
	var res command.Result
	if sp, ok := c.store.(spooler); ok && (t == command.PairPut || t == command.VerpPut) {
		var spooled bool
		res, spooled, err = sp.ApplyOrSpool(ctx, env)
		if err == nil && spooled {
			return res, errSpooled
		}
	} else {
		res, err = c.store.Apply(ctx, env)
	}
	if err != nil {
		return res, failf(http.StatusServiceUnavailable, "The cluster cannot take changes right now (%v); try again in a moment.", err)
	}
	if res.Err != nil {
		return res, failf(admin.RejectionStatus(res.Err.Code), "%s", res.Err.Message)
	}
	return res, nil
}

// sweepTokens deletes console tokens past their lifetime.
func (c *Console) sweepTokens(ctx context.Context) {
	for _, t := range c.store.Tokens() {
		stale := (strings.HasPrefix(t.Name, sessionPrefix) && c.expired(t, c.cfg.SessionTTL)) ||
			(strings.HasPrefix(t.Name, linkPrefix) && c.expired(t, c.cfg.LinkTTL))
		if !stale {
			continue
		}
		if err := c.deleteToken(ctx, t.Name); err != nil {
			c.cfg.Logger.Warn("console: deleting an expired session or link token", "token", t.Name, "err", err)
		}
	}
}
