package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// csp allows only the console's own stylesheet and script.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pages holds one template set per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": func(unix int64) string {
		if unix == 0 {
			return "never"
		}
		return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04")
	},
	"join": strings.Join,
}

func newPages(fsys fs.FS) (*pages, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", n, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what the layout needs besides the page's own Data.
type view struct {
	Title  string
	Nav    string // the current section, marked in the navigation
	S      *session
	Error  string
	Notice string
	Data   any
	// Form is the token of the page's public forms (sign-in, look-up);
	// render fills it.
	Form string
}

// render writes page name with status and the headers every page carries.
func (c *Console) render(w http.ResponseWriter, status int, name string, v view) {
	t := c.pages.byName[name]
	if fw, ok := w.(*formWriter); ok {
		v.Form = fw.token
	}
	var b bytes.Buffer
	if t == nil {
		c.cfg.Logger.Error("console: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.cfg.Logger.Error("console: rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// same-origin: the console's own forms name it in Origin and Referer
	// (sameOrigin), and no other site learns a console address (a sign-in
	// link's holds its token).
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes()) // the browser went away
}

// userError is a refusal shown in the page, with its status.
type userError struct {
	status int
	msg    string
}

func (e *userError) Error() string { return e.msg }

func failf(status int, format string, args ...any) error {
	return &userError{status: status, msg: fmt.Sprintf(format, args...)}
}

// handler serves one page; s is nil on public pages when nobody is
// signed in.
type handler func(w http.ResponseWriter, r *http.Request, s *session) error

// public serves h to anyone, with the session when there is one.
func (c *Console) public(h handler) http.Handler {
	return c.wrap(h, false, false)
}

// page serves h to signed-in users only.
func (c *Console) page(h handler) http.Handler { return c.wrap(h, true, false) }

// form serves a form post of a signed-in user whose CSRF token matches.
func (c *Console) form(h handler) http.Handler { return c.wrap(h, true, true) }

// maxFormBytes bounds a form's body: the largest form, a group's members,
// holds some 2,500 IPv6 prefixes in it.
const maxFormBytes = 64 << 10

func (c *Console) wrap(h handler, signedIn, csrf bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		token, err := c.formCookie(w, r)
		if err != nil {
			c.fail(w, r, s, fmt.Errorf("making a form cookie: %w", err))
			return
		}
		w = &formWriter{ResponseWriter: w, token: formTokenOf(token)}
		if r.Method == http.MethodPost {
			err = c.checkPost(w, r, csrf)
		}
		switch {
		case err != nil:
		case signedIn && s == nil && r.Method == http.MethodGet:
			http.Redirect(w, r, "/console/signin?next="+strings.TrimPrefix(r.URL.Path, "/console/"), http.StatusSeeOther)
			return
		case signedIn && s == nil:
			err = failf(http.StatusUnauthorized, "Your session has ended: sign in again.")
		case csrf && !s.checkCSRF(r.PostFormValue("csrf")):
			err = errForeignForm
		default:
			err = h(w, r, s)
		}
		if err != nil {
			c.fail(w, r, s, err)
		}
	})
}

// checkPost reads a post's form and refuses one another site's page made
// the browser send; a public form (no session form) must carry the form
// cookie's token, a session form its session's (checked after the
// session is).
func (c *Console) checkPost(w http.ResponseWriter, r *http.Request, sessionForm bool) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if !sameOrigin(r) {
		return failf(http.StatusForbidden, "This form did not come from this console: use the forms of its own pages.")
	}
	if !sessionForm {
		return c.checkPublicForm(r)
	}
	return nil
}

// parseForm reads a post's form, at most maxFormBytes of it.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return failf(http.StatusRequestEntityTooLarge, "This form is too large (over %d KiB): send less at once.", maxFormBytes>>10)
	case err != nil:
		return failf(http.StatusBadRequest, "This form could not be read: reload the page and try again.")
	}
	return nil
}

// fail shows err on the message page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ue *userError
	if !errors.As(err, &ue) {
		c.cfg.Logger.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ue = &userError{status: http.StatusInternalServerError, msg: "Something went wrong on this node; try again in a moment."}
	}
	c.render(w, ue.status, "message", view{Title: http.StatusText(ue.status), S: s, Error: ue.msg})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s *session) error {
	return failf(http.StatusNotFound, "There is no console page at %s.", r.URL.Path)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) error {
	to := "/console/signin"
	if s != nil {
		to = "/console/relays"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
