package admin

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// EntityList is the answer of GET /v1/relays and GET /v1/groups.
type EntityList struct {
	// Entities are sorted by ID.
	Entities []*record.Entity `json:"entities"`
	// Next is the cursor for the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// listEntities lists relays (group false) or groups (group true).
func (a *API) listEntities(w http.ResponseWriter, r *http.Request, group bool) error {
	v := a.store.Index().Load()
	q := r.URL.Query()
	f, err := parseFilter(v, q)
	if err != nil {
		return err
	}
	registered, err := queryBool(q.Get("registered"), "registered")
	if err != nil {
		return err
	}
	pg := newPage(f.limit, f.after, func(e index.EntityRef) key { return key{entity: e.ID()} })
	if !f.empty {
		v.EachEntity(func(e index.EntityRef) bool {
			if e.Group() == group && f.entityOK(e.ID()) && (registered == nil || e.Registered() == *registered) {
				pg.offer(e)
			}
			return true
		})
	}
	refs, next := pg.result()
	items := make([]*record.Entity, len(refs))
	for i, e := range refs {
		items[i] = e.Entity()
	}
	writeJSON(w, http.StatusOK, EntityList{Entities: items, Next: next})
	return nil
}

func queryBool(s, name string) (*bool, error) {
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid %s %q: want true or false", name, s)
	}
	return &b, nil
}

// putEntity applies an EntityPut and answers with the entity it wrote.
func (a *API) putEntity(w http.ResponseWriter, r *http.Request, body command.EntityBody, find func(*index.View) *record.Entity) error {
	res, err := a.propose(r.Context(), r, command.EntityPut, body)
	if err != nil {
		return err
	}
	v := a.store.Index().Load()
	e := v.Entity(res.ID)
	if e == nil && find != nil {
		e = find(v)
	}
	if e == nil {
		return missingAfter(w, res, "entity")
	}
	status := http.StatusOK
	if body.ID == 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, e)
	return nil
}

// deleteEntity applies an EntityDelete of e.
func (a *API) deleteEntity(w http.ResponseWriter, r *http.Request, c *caller, e *record.Entity) error {
	if err := c.mayWriteEntity(e); err != nil {
		return err
	}
	if _, err := a.propose(r.Context(), r, command.EntityDelete, command.EntityBody{ID: e.ID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// normalizeContact checks the contact address of a registration.
func normalizeContact(s string, required bool) (string, error) {
	if s == "" {
		if required {
			return "", errorf(http.StatusBadRequest, "contact is required for a registered relay")
		}
		return "", nil
	}
	c, err := record.NormalizeSender(s)
	if err != nil || !strings.Contains(c, "@") {
		return "", errorf(http.StatusBadRequest, "invalid contact %q: want an e-mail address", s)
	}
	return c, nil
}

func normalizePTR(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	p, err := record.NormalizeDomain(s)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid ptr %q: %v", s, err)
	}
	return p, nil
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
