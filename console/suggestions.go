package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/suggest"
)

// suggestionsData fills the suggestions page.
type suggestionsData struct {
	Rows []suggestionRow
	// The accept form's values after an error, for suggestion ID.
	ID, Name, Contact string
}

// suggestionRow is one suggestion with its links labelled for reading.
type suggestionRow struct {
	suggest.Suggestion
	// GroupName names the group the relays would join; "" for a new one.
	GroupName string
	Links     []linkRow
	// Renew is the shared senders at which a dismissal would end.
	Renew int
}

// linkRow is one link of a suggestion: the two entities by label.
type linkRow struct {
	A, B    string
	Shared  int
	Overlap string // a percentage
}

// suggestions lists the suggested groups the session may accept, with
// their evidence, each with the form that accepts it.
func (c *Console) suggestions(w http.ResponseWriter, r *http.Request, s *session) error {
	c.renderSuggestions(w, r, s, http.StatusOK, "", suggestionsData{})
	return nil
}

func (c *Console) renderSuggestions(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, d suggestionsData) {
	for _, sg := range c.visibleSuggestions(s) {
		d.Rows = append(d.Rows, newSuggestionRow(sg))
	}
	c.render(w, status, "suggestions", view{Title: "Suggested groups", Nav: "suggestions", S: s, Error: msg, Notice: notice(r), Data: d})
}

// visibleSuggestions are the current suggestions the session may see:
// an admin's all, a postmaster's those whose relays all lie inside its
// prefixes (admin.SuggestionVisible), without the dismissed ones
// (suggest.WithoutDismissed, as the API).
func (c *Console) visibleSuggestions(s *session) []suggest.Suggestion {
	var out []suggest.Suggestion
	list := c.suggest.Get(c.store.Index().Load(), c.cfg.Now())
	for _, sg := range suggest.WithoutDismissed(list, admin.Dismissals(c.store)) {
		if admin.SuggestionVisible(s.tok, &sg) {
			out = append(out, sg)
		}
	}
	return out
}

func newSuggestionRow(sg suggest.Suggestion) suggestionRow {
	row := suggestionRow{Suggestion: sg, Renew: suggest.Renewal * sg.Links[0].Shared}
	label := map[uint64]string{}
	for _, r := range sg.Relays {
		label[r.ID] = relayLabel(r)
		if r.ID == sg.Group {
			row.GroupName = r.Name
		}
	}
	for _, l := range sg.Links {
		row.Links = append(row.Links, linkRow{A: label[l.A], B: label[l.B], Shared: l.Shared, Overlap: fmt.Sprintf("%.0f%%", 100*l.Overlap)})
	}
	return row
}

// relayLabel names an entity of a suggestion as a person knows it.
func relayLabel(r suggest.Relay) string {
	switch {
	case r.Group && r.Name != "":
		return "group " + r.Name
	case r.PTR != "":
		return fmt.Sprintf("%s (%s)", r.Prefixes[0], r.PTR)
	case len(r.Prefixes) > 0:
		return r.Prefixes[0].String()
	}
	return fmt.Sprintf("entity %d", r.ID)
}

// acceptSuggestion proposes the batch the API's accept does
// (admin.AcceptCommands), as one command: a suggestion gone or changed
// since the page was drawn is refused in the page.
func (c *Console) acceptSuggestion(w http.ResponseWriter, r *http.Request, s *session) error {
	d := suggestionsData{ID: r.PostFormValue("id"), Name: strings.TrimSpace(r.PostFormValue("name")), Contact: strings.TrimSpace(r.PostFormValue("contact"))}
	err := c.accept(r, s, &d)
	if ue, ok := err.(*userError); ok && ue.status < 500 {
		c.renderSuggestions(w, r, s, ue.status, ue.msg, d)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/suggestions?done=grouped", http.StatusSeeOther)
	return nil
}

func (c *Console) accept(r *http.Request, s *session, d *suggestionsData) error {
	sg, err := c.findSuggestion(s, d.ID)
	if err != nil {
		return err
	}
	cmds, err := admin.AcceptCommands(c.store.Index().Load(), sg, &admin.AcceptRequest{Name: d.Name, Contact: d.Contact}, c.cfg.Now().Unix())
	if err != nil {
		c.suggest.Forget() // a stale suggestion: draw the list afresh
		status, msg := admin.ErrorStatus(err)
		return failf(status, "%s.", sentence(msg))
	}
	_, err = c.propose(r.Context(), command.Batch, command.BatchBody{Commands: cmds})
	c.suggest.Forget()
	return err
}

// findSuggestion returns the session's current suggestion id.
func (c *Console) findSuggestion(s *session, id string) (*suggest.Suggestion, error) {
	for _, one := range c.visibleSuggestions(s) {
		if one.ID == id {
			return &one, nil
		}
	}
	return nil, failf(http.StatusNotFound, "That suggestion is gone: its relays changed, were grouped or it was dismissed since the page was drawn. The list below is the current one.")
}

// dismissSuggestion proposes the suggestion.dismiss the API's dismiss
// does: the suggestion is not listed again, to anyone, until its shared
// senders double.
func (c *Console) dismissSuggestion(w http.ResponseWriter, r *http.Request, s *session) error {
	sg, err := c.findSuggestion(s, r.PostFormValue("id"))
	if ue, ok := err.(*userError); ok {
		c.renderSuggestions(w, r, s, ue.status, ue.msg, suggestionsData{})
		return nil
	}
	if _, err := c.propose(r.Context(), command.SuggestionDismiss, admin.DismissBody(sg, "console:"+s.Who)); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/suggestions?done=dismissed", http.StatusSeeOther)
	return nil
}
