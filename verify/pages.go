package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wlns/wlns/record"
)

// pageStyle is the pages' only style; the CSP allows exactly it by hash.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.5;color:#222}` +
	`button{font-size:1.1em;padding:.5em 1.2em}em{font-style:normal;font-weight:600}`

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}}</title><style>` + pageStyle + `</style></head>
<body><main>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}{{if .Button}}<form method="post"><button type="submit">{{.Button}}</button></form>
{{end}}</main></body></html>
`

// page is what one confirmation page shows.
type page struct {
	Title  string
	Lines  []string
	Button string
}

// pages renders the confirmation pages.
type pages struct {
	tmpl *template.Template
	csp  string
}

func newPages() (*pages, error) {
	t, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("parsing the page template: %w", err)
	}
	sum := sha256.Sum256([]byte(pageStyle))
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	return &pages{tmpl: t, csp: csp}, nil
}

// write renders p with status and the headers every page carries.
func (p *pages) write(w http.ResponseWriter, status int, pg page) {
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, pg); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes()) // the browser went away
}

// Page actions.
const (
	actConfirm = "confirm"
	actForgery = "forgery"
	actList    = "list"
)

var (
	notFoundPage = page{Title: "This link is not valid",
		Lines: []string{"The link is unknown, was already used, or has expired. Nothing was changed."}}
	unavailablePage = page{Title: "Please try again later",
		Lines: []string{"The whitelist cannot take your answer right now. Nothing was changed; the link still works. Please try again in a few minutes."}}
)

// maxPageBody bounds what a POST may carry (the form has no fields).
const maxPageBody = 4 << 10

// Handler serves the confirmation pages under /verify/:
// GET /verify/{confirm|forgery|list}/{token} says what the answer will do
// and changes nothing (mail scanners follow links); HEAD answers as GET
// does, without the body (net/http drops it); POST to the same path does
// it. Mount it at "/verify/" on the public HTTP port.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.servePage)
}

func (s *Service) servePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.pages.write(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed",
			Lines: []string{"Open the link from the message in a browser."}})
		return
	}
	action, token, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/verify/"), "/")
	c := s.Lookup(r.Context(), token)
	if !ok || c == nil || !validAction(action, c) {
		s.pages.write(w, http.StatusNotFound, notFoundPage)
		return
	}
	if r.Method != http.MethodPost {
		s.pages.write(w, http.StatusOK, s.askPage(action, c))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPageBody)
	pg, err := s.act(r, action, token)
	switch {
	case errors.Is(err, ErrUnknownToken):
		s.pages.write(w, http.StatusNotFound, notFoundPage)
	case err != nil:
		s.cfg.Logger.Error("confirmation page", "action", action, "challenge", c.ID, "err", err)
		s.pages.write(w, http.StatusServiceUnavailable, unavailablePage)
	default:
		s.pages.write(w, http.StatusOK, pg)
	}
}

// validAction: every challenge can be confirmed or refused; only a pair
// challenge can be reported as coming from a list server.
func validAction(action string, c *record.Challenge) bool {
	switch action {
	case actConfirm, actForgery:
		return true
	case actList:
		return c.Kind == record.ChallengePair
	}
	return false
}

// act performs the POSTed action and returns the page that says what was done.
func (s *Service) act(r *http.Request, action, token string) (page, error) {
	switch action {
	case actConfirm:
		a, err := s.confirm(r.Context(), token, "link")
		return s.confirmedPage(a), err
	case actForgery:
		a, err := s.reportForgery(r.Context(), token)
		return s.forgeryPage(a), err
	default:
		a, err := s.reportList(r.Context(), token)
		return s.listPage(a), err
	}
}

// askPage says what POSTing action will do and offers the button.
func (s *Service) askPage(action string, c *record.Challenge) page {
	relay := s.relayName(c)
	days := int(s.cfg.SuppressFor / (24 * time.Hour))
	domain := mailDomain(c)
	switch {
	case action == actConfirm && c.Kind == record.ChallengeVerp:
		return page{Title: "Confirm the mailing-list server", Button: "Confirm",
			Lines: []string{fmt.Sprintf("The list server at %s may send with VERP return paths for domain %s: its mail will be accepted without asking each return path to confirm.", relay, c.Domain),
				"Nothing changes until you press the button."}}
	case action == actConfirm:
		return page{Title: "Confirm your address", Button: "Confirm",
			Lines: []string{fmt.Sprintf("Whitelist %s for mail sent through relay %s.", c.Sender, relay),
				"Nothing changes until you press the button."}}
	case action == actForgery:
		return page{Title: "Report a forged request", Button: "I did not send this",
			Lines: []string{fmt.Sprintf("Tell the whitelist that %s did not send mail through relay %s. We will not write to %s about this relay again for %d days.", c.Sender, relay, c.Sender, days),
				"Nothing changes until you press the button."}}
	default:
		return page{Title: "Report a mailing-list server", Button: "This is a mailing-list server",
			Lines: []string{fmt.Sprintf("Tell the whitelist that relay %s is a mailing-list server sending with per-recipient return paths at %s. We will ask postmaster@%s to confirm, and will not ask %s again.", relay, domain, domain, c.Sender),
				"Nothing changes until you press the button."}}
	}
}

func (s *Service) confirmedPage(a Answer) page {
	c := a.Challenge
	if c == nil {
		return page{}
	}
	relay := s.relayName(c)
	what := fmt.Sprintf("%s is now whitelisted for mail sent through relay %s. Mail servers that held your message back will accept it on their next try.", c.Sender, relay)
	if c.Kind == record.ChallengeVerp {
		what = fmt.Sprintf("The list server at %s is now known to send with VERP return paths for domain %s.", relay, c.Domain)
	}
	if a.Spooled {
		what = "Your confirmation is recorded on this server and takes effect as soon as the rest of the whitelist can be reached."
	}
	return page{Title: "Thank you", Lines: []string{what}}
}

func (s *Service) forgeryPage(a Answer) page {
	c := a.Challenge
	if c == nil {
		return page{}
	}
	until := time.Unix(s.now(), 0).Add(s.cfg.SuppressFor).UTC().Format("2 January 2006")
	lines := []string{fmt.Sprintf("We closed this request and will not write to %s about relay %s before %s.", c.Sender, s.relayName(c), until)}
	if a.Spooled {
		lines = append(lines, "Your report is recorded on this server and takes effect as soon as the rest of the whitelist can be reached.")
	}
	return page{Title: "Thank you", Lines: lines}
}

func (s *Service) listPage(a Answer) page {
	c := a.Challenge
	if c == nil {
		return page{}
	}
	domain := mailDomain(c)
	lines := []string{fmt.Sprintf("We closed this request and will not ask %s again about relay %s.", c.Sender, s.relayName(c))}
	if a.Sent {
		lines = append(lines, fmt.Sprintf("We asked postmaster@%s to confirm that the list server sends with VERP return paths.", domain))
	} else {
		lines = append(lines, "We could not ask the postmaster of "+domain+" now: "+a.Reason)
	}
	if a.Spooled {
		lines = append(lines, "Your report is recorded on this server and takes effect as soon as the rest of the whitelist can be reached.")
	}
	return page{Title: "Thank you", Lines: lines}
}

// mailDomain is the domain a challenge is about.
func mailDomain(c *record.Challenge) string {
	if c.Domain != "" {
		return c.Domain
	}
	return c.Sender[strings.LastIndexByte(c.Sender, '@')+1:]
}
