package console

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// relayEditData fills the form that edits a lone relay.
type relayEditData struct {
	ID           uint64
	Address, PTR string
	Contact      string
	Registered   bool
	Pinned       bool
	// WasRegistered is whether the stored relay is registered.
	WasRegistered bool
}

// relayParam is the session's lone relay with ID val.
func relayParam(c *Console, s *session, val string) (*record.Entity, error) {
	e, err := entityParam(c.store.Index().Load(), s, val)
	if err != nil {
		return nil, err
	}
	if e.Group {
		return nil, failf(http.StatusNotFound, "%s is a group, not a lone relay: edit or delete it as a group.", e.Label())
	}
	return e, nil
}

func editData(e *record.Entity) relayEditData {
	return relayEditData{ID: e.ID, Address: e.Label(), PTR: e.PTR, Contact: e.Contact, Registered: e.Registered, Pinned: e.Pinned,
		WasRegistered: e.Registered}
}

// relayEditForm shows the form for one of the session's lone relays.
func (c *Console) relayEditForm(w http.ResponseWriter, r *http.Request, s *session) error {
	e, err := relayParam(c, s, r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	c.render(w, http.StatusOK, "relayedit", view{Title: "Edit relay " + e.Label(), Nav: "relays", S: s, Data: editData(e)})
	return nil
}

// saveRelay replaces a lone relay's contact and registration with the
// API's validation (admin.RelayUpdateBody, as PUT /v1/relays/{id}); its
// address, PTR name and pin stay as they are. A relay registered here
// (one a pair made, or one unregistered before) passes the check of the
// registration page first: its reverse DNS must be forward-confirmed, and
// that name becomes its PTR.
func (c *Console) saveRelay(w http.ResponseWriter, r *http.Request, s *session) error {
	e, err := relayParam(c, s, r.PostFormValue("id"))
	if err != nil {
		return err
	}
	d := editData(e)
	d.Contact, d.Registered = strings.TrimSpace(r.PostFormValue("contact")), r.PostFormValue("registered") != ""
	req := admin.RelayUpdate{Contact: d.Contact, PTR: e.PTR, Registered: &d.Registered, Pinned: e.Pinned}
	body, err := admin.RelayUpdateBody(s.tok, e, &req)
	if err != nil {
		status, msg := admin.ErrorStatus(err)
		err = failf(status, "%s.", sentence(msg))
	} else if d.Registered && !e.Registered {
		body.PTR, err = c.confirmRelay(r, e)
	}
	if err == nil {
		_, err = c.propose(r.Context(), command.EntityPut, body)
	}
	if ue, ok := err.(*userError); ok && ue.status < 500 {
		c.render(w, ue.status, "relayedit", view{Title: "Edit relay " + e.Label(), Nav: "relays", S: s, Error: ue.msg, Data: d})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/relays?done=saved", http.StatusSeeOther)
	return nil
}

// confirmRelay is the forward-confirmed reverse DNS name of lone relay e,
// or the refusal in the page's words.
func (c *Console) confirmRelay(r *http.Request, e *record.Entity) (string, error) {
	if len(e.Prefixes) != 1 || !e.Prefixes[0].IsSingleIP() {
		return "", failf(http.StatusUnprocessableEntity, "%s is not a single address: register it as a group.", e.Label())
	}
	ptr, err := confirmPTR(r.Context(), c.resolver(), e.Prefixes[0].Addr())
	if err != nil {
		return "", failf(http.StatusUnprocessableEntity, "Not registered: %v.", err)
	}
	return ptr, nil
}

// deleteData fills the page that asks before a relay or group is deleted.
type deleteData struct {
	Kind, Action, Label string
	ID                  uint64
	Prefixes            []netip.Prefix
	Records             int
	Registered          bool
}

// deletable is the session's relay (group false) or group with ID val.
func deletable(c *Console, s *session, val string, group bool) (*record.Entity, error) {
	if group {
		return groupParam(c, s, val)
	}
	return relayParam(c, s, val)
}

func kindName(group bool) string {
	if group {
		return "group"
	}
	return "relay"
}

// confirmDelete asks whether to delete one of the session's lone relays
// (group false) or groups, saying what goes with it; the page's button
// posts the delete, so it works without JavaScript.
func (c *Console) confirmDelete(group bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		e, err := deletable(c, s, r.URL.Query().Get("id"), group)
		if err != nil {
			return err
		}
		kind := kindName(group)
		d := deleteData{Kind: kind, Action: "/console/" + kind + "s/delete", Label: e.Label(), ID: e.ID, Prefixes: e.Prefixes,
			Records: c.store.Index().Load().RecordsOf(e.ID), Registered: e.Registered}
		c.render(w, http.StatusOK, "delete", view{Title: "Delete " + kind + " " + e.Label(), Nav: "relays", S: s, Data: d})
		return nil
	}
}

// deleteEntity deletes one of the session's lone relays (group false) or
// groups with its pairs and VERP sources, as DELETE /v1/relays/{id} and
// /v1/groups/{id} do. A delete is never spooled: without a quorum the
// page says the cluster cannot take it now.
func (c *Console) deleteEntity(group bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		e, err := deletable(c, s, r.PostFormValue("id"), group)
		if err != nil {
			return err
		}
		if _, err := c.propose(r.Context(), command.EntityDelete, command.EntityBody{ID: e.ID}); err != nil {
			return err
		}
		c.cfg.Logger.Info("console: entity deleted", "entity", e.ID, "kind", kindName(group), "session", s.tok.Name)
		http.Redirect(w, r, "/console/relays?done=deleted", http.StatusSeeOther)
		return nil
	}
}
