package console

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
)

// signinData fills the sign-in page.
type signinData struct {
	Links bool   // magic links are available
	Relay string // the relay field, kept after an error
	Next  string
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request, s *session) error {
	if s != nil {
		http.Redirect(w, r, "/console/relays", http.StatusSeeOther)
		return nil
	}
	c.render(w, http.StatusOK, "signin", view{Title: "Sign in", Data: signinData{Links: c.cfg.Mailer != nil, Next: next(r)}})
	return nil
}

// next is the page to go to after signing in: a console path only.
func next(r *http.Request) string {
	n := r.FormValue("next")
	if n == "" || strings.ContainsAny(n, ":/\\") || strings.HasPrefix(n, "signin") {
		return "relays"
	}
	return n
}

func (c *Console) signinError(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	c.render(w, status, "signin", view{Title: "Sign in", Error: msg,
		Data: signinData{Links: c.cfg.Mailer != nil, Relay: r.PostFormValue("relay"), Next: next(r)}})
	return nil
}

// signinToken starts a session from a pasted API token: a new session
// token with the pasted one's role and prefixes, so that signing out
// never revokes the API token itself.
func (c *Console) signinToken(w http.ResponseWriter, r *http.Request, _ *session) error {
	secret := strings.TrimSpace(r.PostFormValue("token"))
	if secret == "" {
		return c.signinError(w, r, http.StatusBadRequest, "Paste your API token into the token field.")
	}
	tok := c.store.Token(admin.HashSecret(secret))
	switch {
	case tok == nil || strings.HasPrefix(tok.Name, linkPrefix) || strings.HasPrefix(tok.Name, sessionPrefix):
		// A session's own secret never starts another: a session ends 12
		// hours after sign-in, and a copied cookie must not outlive it.
		return c.signinError(w, r, http.StatusUnauthorized, "That token is not known to this node: check it, or sign in by mail.")
	case tok.Role != record.RoleAdmin && tok.Role != record.RolePostmaster:
		return c.signinError(w, r, http.StatusForbidden, fmt.Sprintf("Token %q has the role %s; the console takes admin and postmaster tokens.", tok.Name, tok.Role))
	}
	if err := c.startSession(w, r, tok.Role, tok.Prefixes, byToken+tok.Name); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/"+next(r), http.StatusSeeOther)
	return nil
}

// requestLink mails a sign-in link to the registered contact of the
// relay or group the form names. The answer is the same whether or not
// the relay exists, so the form does not tell who is registered, and one
// relay gets at most one live link at a time.
func (c *Console) requestLink(w http.ResponseWriter, r *http.Request, _ *session) error {
	if c.cfg.Mailer == nil {
		return c.signinError(w, r, http.StatusNotFound, "This node does not mail sign-in links (verification mail is not configured): sign in with a token.")
	}
	name := strings.TrimSpace(r.PostFormValue("relay"))
	if name == "" {
		return c.signinError(w, r, http.StatusBadRequest, "Enter the address of your relay, or the name of your group.")
	}
	if !c.links.allow(clientNet(r)) {
		return c.signinError(w, r, http.StatusTooManyRequests, "Too many sign-in links were asked for from your network; try again in an hour.")
	}
	e := c.findRelay(name)
	if e != nil && e.Registered && e.Contact != "" && !c.linkPending(e.ID) {
		if err := c.mailLink(r, e); err != nil {
			return err
		}
	}
	c.render(w, http.StatusOK, "message", view{Title: "Check your mail", Notice: "If " + name +
		" is a registered relay or group, a sign-in link is on its way to its registered contact address. " +
		"The link works once, within " + c.cfg.LinkTTL.String() + "."})
	return nil
}

// findRelay is the entity an address belongs to, or the group of a name,
// found through the index (longest-prefix match) or the group name table:
// no request walks the registry.
func (c *Console) findRelay(name string) *record.Entity {
	v := c.store.Index().Load()
	if ip, err := netip.ParseAddr(name); err == nil {
		return v.EntityOf(ip.Unmap())
	}
	if g := c.groups.Lookup(v, strings.ToLower(name)); g.Found() {
		return g.Entity()
	}
	return nil
}

// linkPending reports whether the entity has a live link already.
func (c *Console) linkPending(id uint64) bool {
	prefix := linkPrefix + strconv.FormatUint(id, 10) + "-"
	for _, t := range c.store.Tokens() {
		if strings.HasPrefix(t.Name, prefix) && !c.expired(t, c.cfg.LinkTTL) {
			return true
		}
	}
	return false
}

const linkMail = `Hello,

someone asked to sign in to the wlns console as postmaster of

    %s

To sign in, open this link within %s and press "Sign in":

%s

The link works once. If you did not ask for it, ignore this message:
nobody can sign in without the link.

-- 
wlns console. This message was sent automatically.
`

// mailLink makes a link token scoped to e's prefixes and mails it.
func (c *Console) mailLink(r *http.Request, e *record.Entity) error {
	secret, err := admin.NewSecret()
	if err != nil {
		return err
	}
	name := linkPrefix + strconv.FormatUint(e.ID, 10) + "-" + admin.HashSecret(secret)[:16]
	if err := c.putToken(r.Context(), name, secret, record.RolePostmaster, e.Prefixes); err != nil {
		return err
	}
	link := strings.TrimRight(c.cfg.BaseURL, "/") + "/console/link/" + secret
	text := fmt.Sprintf(linkMail, e.Label(), c.cfg.LinkTTL, link)
	if err := c.cfg.Mailer.SendNotice(r.Context(), e.Contact, "Sign in to the wlns console", text); err != nil {
		c.cfg.Logger.Warn("console: mailing a sign-in link", "entity", e.ID, "err", err)
		_ = c.deleteToken(r.Context(), name) // the sweep takes it otherwise
		return failf(http.StatusBadGateway, "The sign-in link could not be mailed; try again later.")
	}
	c.cfg.Logger.Info("console: sign-in link mailed", "entity", e.ID)
	return nil
}

// linkToken is the live link token of the path's secret, or nil.
func (c *Console) linkToken(r *http.Request) *record.Token {
	tok := c.store.Token(admin.HashSecret(r.PathValue("secret")))
	if tok == nil || !strings.HasPrefix(tok.Name, linkPrefix) || c.expired(tok, c.cfg.LinkTTL) {
		return nil
	}
	return tok
}

var errLinkGone = failf(http.StatusGone, "This sign-in link has been used or has expired: ask for a new one on the sign-in page.")

// linkPage asks for a press of a button: mail scanners that open links
// must not use them up.
func (c *Console) linkPage(w http.ResponseWriter, r *http.Request, _ *session) error {
	tok := c.linkToken(r)
	if tok == nil {
		return errLinkGone
	}
	c.render(w, http.StatusOK, "link", view{Title: "Sign in", Data: c.linkEntity(tok)})
	return nil
}

// linkEntity is the label of the entity a link token was made for.
func (c *Console) linkEntity(tok *record.Token) string {
	if e := c.linkEntityRecord(tok); e != nil {
		return e.Label()
	}
	return "your relay"
}

// useLink takes the link (a replicated delete: of two requests with the
// same link, on any nodes, one wins) and starts a session with its scope.
func (c *Console) useLink(w http.ResponseWriter, r *http.Request, _ *session) error {
	tok := c.linkToken(r)
	if tok == nil {
		return errLinkGone
	}
	if err := c.deleteToken(r.Context(), tok.Name); err != nil {
		if ue, ok := err.(*userError); ok && ue.status == http.StatusNotFound {
			return errLinkGone
		}
		return err
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(tok.Name, linkPrefix), "-")
	if err := c.startSession(w, r, record.RolePostmaster, tok.Prefixes, byLink+id); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/relays", http.StatusSeeOther)
	return nil
}

// linkEntityRecord is the entity a link token was made for, or nil.
func (c *Console) linkEntityRecord(tok *record.Token) *record.Entity {
	id, _, _ := strings.Cut(strings.TrimPrefix(tok.Name, linkPrefix), "-")
	n, _ := strconv.ParseUint(id, 10, 64)
	return c.store.Index().Load().Entity(n)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.deleteToken(r.Context(), s.tok.Name); err != nil {
		if ue, ok := err.(*userError); !ok || ue.status != http.StatusNotFound {
			return err
		}
	}
	http.SetCookie(w, c.cookie(r, cookieName, "", -1))
	c.render(w, http.StatusOK, "message", view{Title: "Signed out", Notice: "You are signed out. The session is deleted on every node."})
	return nil
}
