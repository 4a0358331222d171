package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// MaxGroupName bounds group names.
const MaxGroupName = 64

// GroupRequest is the body of POST and PUT /v1/groups and of a "group"
// import line. PUT replaces every field.
type GroupRequest struct {
	// Name is unique among groups: lower-case letters, digits, '.', '-',
	// '_', not all digits.
	Name string `json:"name"`
	// Members are IP addresses or CIDR prefixes, IPv4 or IPv6; at least one.
	Members []string `json:"members"`
	// Contact is the accountable e-mail address; required when registered.
	Contact string `json:"contact,omitempty"`
	// PTR is the group's forward-confirmed reverse name.
	PTR string `json:"ptr,omitempty"`
	// Registered makes the group's addresses answer in the relay zone.
	Registered bool `json:"registered,omitempty"`
	// Pinned keeps the group from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// MembersRequest is the body of POST and DELETE /v1/groups/{id}/members.
type MembersRequest struct {
	// Prefixes are IP addresses or CIDR prefixes.
	Prefixes []string `json:"prefixes"`
}

// groupBody validates a group for the caller against view v; old is the
// group being replaced, or nil.
func groupBody(v *index.View, c *caller, req *GroupRequest, old *record.Entity) (command.EntityBody, error) {
	name, err := normalizeGroupName(req.Name)
	if err != nil {
		return command.EntityBody{}, err
	}
	if other := groupByName(v, name); other != nil && (old == nil || other.ID != old.ID) {
		return command.EntityBody{}, errorf(http.StatusConflict, "group %q exists (entity %d)", name, other.ID)
	}
	if len(req.Members) == 0 {
		return command.EntityBody{}, errorf(http.StatusBadRequest, "a group needs at least one member")
	}
	ps, members, err := parsePrefixes(req.Members)
	if err != nil {
		return command.EntityBody{}, err
	}
	contact, err := normalizeContact(req.Contact, req.Registered)
	if err != nil {
		return command.EntityBody{}, err
	}
	ptr, err := normalizePTR(req.PTR)
	if err != nil {
		return command.EntityBody{}, err
	}
	if err := c.mayWrite(ps...); err != nil {
		return command.EntityBody{}, err
	}
	body := command.EntityBody{Name: name, Group: true, Prefixes: members, Registered: req.Registered,
		Contact: contact, PTR: ptr, Pinned: req.Pinned}
	if old != nil {
		if err := c.mayWriteEntity(old); err != nil {
			return command.EntityBody{}, err
		}
		body.ID = old.ID
	}
	return body, nil
}

func normalizeGroupName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	bad := errorf(http.StatusBadRequest,
		"invalid group name %q: want 1 to %d lower-case letters, digits, '.', '-' or '_', not all digits", s, MaxGroupName)
	if name == "" || len(name) > MaxGroupName {
		return "", bad
	}
	digits := true
	for i := 0; i < len(name); i++ {
		ch := name[i]
		isDigit := ch >= '0' && ch <= '9'
		if !(isDigit || ch >= 'a' && ch <= 'z' || ch == '.' || ch == '-' || ch == '_') {
			return "", bad
		}
		digits = digits && isDigit
	}
	if digits {
		return "", bad
	}
	return name, nil
}

// groupByName is v's group named name, from the index's name table (a
// walk of every entity only after entities changed, not per request).
func groupByName(v *index.View, name string) *record.Entity { return v.GroupNamed(name).Entity() }

// lookupGroup finds a group by ID or name.
func lookupGroup(v *index.View, ref string) (*record.Entity, error) {
	var e *record.Entity
	if id, err := strconv.ParseUint(ref, 10, 64); err == nil {
		e = v.Entity(id)
	} else {
		e = groupByName(v, strings.ToLower(ref))
	}
	if e == nil || !e.Group {
		return nil, errorf(http.StatusNotFound, "no group %s", ref)
	}
	return e, nil
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req GroupRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	body, err := groupBody(a.store.Index().Load(), c, &req, nil)
	if err != nil {
		return err
	}
	return a.putEntity(w, r, body, func(v *index.View) *record.Entity { return groupByName(v, body.Name) })
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request, _ *caller) error {
	return a.listEntities(w, r, true)
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request, _ *caller) error {
	e, err := lookupGroup(a.store.Index().Load(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req GroupRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	v := a.store.Index().Load()
	old, err := lookupGroup(v, r.PathValue("id"))
	if err != nil {
		return err
	}
	body, err := groupBody(v, c, &req, old)
	if err != nil {
		return err
	}
	return a.putEntity(w, r, body, nil)
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	e, err := lookupGroup(a.store.Index().Load(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.deleteEntity(w, r, c, e)
}

func (a *API) addMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.changeMembers(w, r, c, command.MembersAdd)
}

func (a *API) removeMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.changeMembers(w, r, c, command.MembersRemove)
}

func (a *API) changeMembers(w http.ResponseWriter, r *http.Request, c *caller, t command.Type) error {
	var req MembersRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	e, err := lookupGroup(a.store.Index().Load(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(req.Prefixes) == 0 {
		return errorf(http.StatusBadRequest, "prefixes is empty")
	}
	ps, members, err := parsePrefixes(req.Prefixes)
	if err != nil {
		return err
	}
	if err := c.mayWriteEntity(e); err != nil {
		return err
	}
	if err := c.mayWrite(ps...); err != nil {
		return err
	}
	if _, err := a.propose(r.Context(), r, t, command.MembersBody{Entity: e.ID, Prefixes: members}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.store.Index().Load().Entity(e.ID))
	return nil
}
