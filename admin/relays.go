package admin

import (
	"net/http"
	"net/netip"
	"strconv"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// RelayRequest is the body of POST /v1/relays and of a "relay" import line:
// it registers a lone relay address, creating its entity or registering the
// one a pair already made.
type RelayRequest struct {
	// IP is the relay's address.
	IP string `json:"ip"`
	// Contact is the accountable e-mail address; required.
	Contact string `json:"contact"`
	// PTR is the relay's forward-confirmed reverse name.
	PTR string `json:"ptr,omitempty"`
	// Pinned keeps the relay from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// RelayUpdate is the body of PUT /v1/relays/{id}; it replaces these fields.
type RelayUpdate struct {
	// Contact is the accountable e-mail address; required when registered.
	Contact string `json:"contact,omitempty"`
	// PTR is the relay's forward-confirmed reverse name.
	PTR string `json:"ptr,omitempty"`
	// Registered answers in the relay zone; default true.
	Registered *bool `json:"registered,omitempty"`
	// Pinned keeps the relay from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// relayBody validates a registration for the caller against view v.
func relayBody(v *index.View, c *caller, req *RelayRequest) (command.EntityBody, error) {
	r, err := relayRegistration(v, c, req)
	if err != nil {
		return command.EntityBody{}, err
	}
	return r.Body(), nil
}

// relayRegistration is relayBody as the registration it stands for (an
// import's relay line goes into the record list as one).
func relayRegistration(v *index.View, c *caller, req *RelayRequest) (command.ImportRegistration, error) {
	ip, err := parseIP(req.IP)
	if err != nil {
		return command.ImportRegistration{}, err
	}
	contact, err := normalizeContact(req.Contact, true)
	if err != nil {
		return command.ImportRegistration{}, err
	}
	ptr, err := normalizePTR(req.PTR)
	if err != nil {
		return command.ImportRegistration{}, err
	}
	member := netip.PrefixFrom(ip, ip.BitLen())
	if err := c.mayWrite(member); err != nil {
		return command.ImportRegistration{}, err
	}
	r := command.ImportRegistration{Addr: ip, Contact: contact, PTR: ptr, Pinned: req.Pinned}
	var owner *record.Entity
	if ref := v.EntityRefOf(ip); ref.Found() { // built only when found: a bulk import registers new addresses
		owner = ref.Entity()
	}
	switch {
	case owner == nil:
	case owner.Group:
		return command.ImportRegistration{}, errorf(http.StatusConflict,
			"ip %s belongs to group %q (entity %d): register the group instead", ip, owner.Name, owner.ID)
	case len(owner.Prefixes) != 1 || owner.Prefixes[0] != member:
		return command.ImportRegistration{}, errorf(http.StatusConflict,
			"ip %s belongs to relay %s (entity %d)", ip, owner.Label(), owner.ID)
	default: // the lone entity of this address, maybe made by a pair: register it
		r.ID, r.Pinned = owner.ID, req.Pinned || owner.Pinned
	}
	return r, nil
}

func (a *API) createRelay(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req RelayRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	body, err := relayBody(a.store.Index().Load(), c, &req)
	if err != nil {
		return err
	}
	member := netip.MustParsePrefix(body.Prefixes[0])
	return a.putEntity(w, r, body, func(v *index.View) *record.Entity { return v.PrefixOwner(member) })
}

func (a *API) listRelays(w http.ResponseWriter, r *http.Request, _ *caller) error {
	return a.listEntities(w, r, false)
}

// lookupRelay finds a lone relay by ID or by its address.
func lookupRelay(v *index.View, ref string) (*record.Entity, error) {
	var e *record.Entity
	if id, err := strconv.ParseUint(ref, 10, 64); err == nil {
		e = v.Entity(id)
	} else if p, err := record.ParsePrefix(ref); err == nil && p.IsSingleIP() {
		e = v.PrefixOwner(p)
	} else {
		return nil, errorf(http.StatusBadRequest, "invalid relay %q: want an entity ID or an IP address", ref)
	}
	if e == nil || e.Group {
		return nil, errorf(http.StatusNotFound, "no relay %s", ref)
	}
	return e, nil
}

func (a *API) getRelay(w http.ResponseWriter, r *http.Request, _ *caller) error {
	e, err := lookupRelay(a.store.Index().Load(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (a *API) updateRelay(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req RelayUpdate
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	e, err := lookupRelay(a.store.Index().Load(), r.PathValue("id"))
	if err != nil {
		return err
	}
	body, err := relayUpdateBody(c, e, &req)
	if err != nil {
		return err
	}
	return a.putEntity(w, r, body, nil)
}

// relayUpdateBody validates the replacement of lone relay e's fields for
// the caller.
func relayUpdateBody(c *caller, e *record.Entity, req *RelayUpdate) (command.EntityBody, error) {
	if err := c.mayWriteEntity(e); err != nil {
		return command.EntityBody{}, err
	}
	registered := req.Registered == nil || *req.Registered
	contact, err := normalizeContact(req.Contact, registered)
	if err != nil {
		return command.EntityBody{}, err
	}
	ptr, err := normalizePTR(req.PTR)
	if err != nil {
		return command.EntityBody{}, err
	}
	return command.EntityBody{ID: e.ID, Prefixes: prefixStrings(e.Prefixes), Registered: registered,
		Contact: contact, PTR: ptr, Pinned: req.Pinned}, nil
}

func (a *API) deleteRelay(w http.ResponseWriter, r *http.Request, c *caller) error {
	e, err := lookupRelay(a.store.Index().Load(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.deleteEntity(w, r, c, e)
}
