package console

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// groupData fills the group form: a new group (ID 0) or one to edit.
type groupData struct {
	ID         uint64
	Name       string
	Members    string // one per line
	Contact    string
	Registered bool
	// Scope lists a postmaster's prefixes, which every member must lie
	// inside; empty for an admin.
	Scope []string
}

// groupForm shows the form for a new group or, with ?id=, for one of the
// session's groups.
func (c *Console) groupForm(w http.ResponseWriter, r *http.Request, s *session) error {
	d := groupData{Registered: true, Scope: scopeOf(s)}
	if id := r.URL.Query().Get("id"); id != "" {
		g, err := groupParam(c, s, id)
		if err != nil {
			return err
		}
		d = groupData{ID: g.ID, Name: g.Name, Contact: g.Contact, Registered: g.Registered, Scope: d.Scope}
		var ms []string
		for _, p := range g.Prefixes {
			ms = append(ms, p.String())
		}
		d.Members = strings.Join(ms, "\n")
	}
	c.render(w, http.StatusOK, "group", view{Title: groupTitle(d.ID), Nav: "relays", S: s, Data: d})
	return nil
}

func groupTitle(id uint64) string {
	if id == 0 {
		return "New group"
	}
	return "Edit group"
}

// groupParam is the session's group with ID val.
func groupParam(c *Console, s *session, val string) (*record.Entity, error) {
	e, err := entityParam(c.store.Index().Load(), s, val)
	if err != nil {
		return nil, err
	}
	if !e.Group {
		return nil, failf(http.StatusNotFound, "%s is a relay, not a group.", e.Label())
	}
	return e, nil
}

// saveGroup creates or replaces a group with the API's validation
// (admin.GroupBody); a postmaster's members must lie inside the session's
// prefixes. A replacement keeps the group's PTR and pin, which the form
// does not show.
func (c *Console) saveGroup(w http.ResponseWriter, r *http.Request, s *session) error {
	d := groupData{Name: r.PostFormValue("name"), Members: r.PostFormValue("members"), Contact: strings.TrimSpace(r.PostFormValue("contact")),
		Registered: r.PostFormValue("registered") != "", Scope: scopeOf(s)}
	req := admin.GroupRequest{Name: d.Name, Members: splitMembers(d.Members), Contact: d.Contact, Registered: d.Registered}
	var old *record.Entity
	if id := r.PostFormValue("id"); id != "" {
		g, err := groupParam(c, s, id)
		if err != nil {
			return err
		}
		old, d.ID = g, g.ID
		req.PTR, req.Pinned = g.PTR, g.Pinned
	}
	err := outsideScope(s, req.Members)
	if err == nil {
		var body command.EntityBody
		body, err = admin.GroupBody(c.store.Index().Load(), s.tok, &req, old)
		if err != nil {
			status, msg := admin.ErrorStatus(err)
			err = failf(status, "%s.", sentence(msg))
		} else {
			_, err = c.propose(r.Context(), command.EntityPut, body)
		}
	}
	if ue, ok := err.(*userError); ok && ue.status < 500 {
		c.render(w, ue.status, "group", view{Title: groupTitle(d.ID), Nav: "relays", S: s, Error: ue.msg, Data: d})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/relays?done=saved", http.StatusSeeOther)
	return nil
}

// splitMembers splits the members field on lines, commas and spaces.
func splitMembers(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// outsideScope refuses, in the page's words, a member outside a
// postmaster session's prefixes; members that do not parse are left to
// the API's validation.
func outsideScope(s *session, members []string) error {
	if s.Admin() {
		return nil
	}
	for _, m := range members {
		p, err := record.ParsePrefix(m)
		if err == nil && !admin.Within(p, s.tok.Prefixes) {
			return failf(http.StatusForbidden, "%s lies outside your prefixes (%s): an admin can add it for you.",
				p, strings.Join(scopeOf(s), ", "))
		}
	}
	return nil
}

// scopeOf lists a postmaster session's prefixes; nil for an admin.
func scopeOf(s *session) []string {
	if s.Admin() {
		return nil
	}
	var out []string
	for _, p := range s.tok.Prefixes {
		out = append(out, p.String())
	}
	return out
}

// sentence makes an API message (lower-case, no stop) read as one.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
