package admin

import (
	"net/http"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// VerpRequest is the body of POST /v1/verp and of a "verp" import line.
type VerpRequest struct {
	// Domain is the mailing list's return-path domain.
	Domain string `json:"domain"`
	// IP names the list server by one of its addresses.
	IP string `json:"ip,omitempty"`
	// Entity names the list server by ID, instead of IP.
	Entity uint64 `json:"entity,omitempty"`
	// Pinned keeps the listing from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// VerpList is the answer of GET /v1/verp.
type VerpList struct {
	// Verp are sorted by entity, then domain.
	Verp []*record.Verp `json:"verp"`
	// Next is the cursor for the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// verpBody validates req for the caller against view v.
func verpBody(v *index.View, c *caller, req *VerpRequest, method string) (command.VerpBody, target, error) {
	domain, err := verpDomain(req.Domain)
	if err != nil {
		return command.VerpBody{}, target{}, err
	}
	t, err := resolveTarget(v, req.IP, req.Entity)
	if err != nil {
		return command.VerpBody{}, target{}, err
	}
	if err := t.mayWrite(c); err != nil {
		return command.VerpBody{}, target{}, err
	}
	body := command.VerpBody{Domain: domain, Entity: req.Entity, By: c.name(), Method: method, Pinned: req.Pinned}
	if t.ip.IsValid() {
		body.IP = t.ip.String()
	}
	return body, t, nil
}

// verpDomain normalises a VERP source's list domain.
func verpDomain(s string) (string, error) {
	domain, err := record.NormalizeDomain(s)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid domain %q: %v", s, err)
	}
	return domain, nil
}

func (a *API) putVerp(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req VerpRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	body, t, err := verpBody(a.store.Index().Load(), c, &req, "api")
	if err != nil {
		return err
	}
	res, err := a.propose(r.Context(), r, command.VerpPut, body)
	if err != nil {
		return err
	}
	v := a.store.Index().Load()
	vp := v.Verp(t.entityID(v, res.ID), []byte(body.Domain))
	if vp == nil {
		return missingAfter(w, res, "VERP source "+body.Domain)
	}
	writeJSON(w, createdStatus(res), vp)
	return nil
}

func (a *API) deleteVerp(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	id, err := queryUint(q.Get("entity"), "entity")
	if err != nil {
		return err
	}
	v := a.store.Index().Load()
	body, t, err := verpBody(v, c, &VerpRequest{Domain: q.Get("domain"), IP: q.Get("ip"), Entity: id}, "")
	if err != nil {
		return err
	}
	if t.entity == nil || v.Verp(t.entity.ID, []byte(body.Domain)) == nil {
		return errorf(http.StatusNotFound, "no VERP source %s through %s", body.Domain, t)
	}
	body.By, body.Method = "", ""
	if _, err := a.propose(r.Context(), r, command.VerpDelete, body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listVerps(w http.ResponseWriter, r *http.Request, _ *caller) error {
	v := a.store.Index().Load()
	f, err := parseFilter(v, r.URL.Query())
	if err != nil {
		return err
	}
	var domain string
	if d := r.URL.Query().Get("domain"); d != "" {
		if domain, err = record.NormalizeDomain(d); err != nil {
			return errorf(http.StatusBadRequest, "invalid domain %q: %v", d, err)
		}
	}
	pg := newPage(f.limit, f.after, refKey)
	if !f.empty {
		v.EachVerp(func(vp index.Ref) bool {
			if f.entityOK(vp.Entity()) && (domain == "" || vp.Key() == domain) {
				pg.offer(vp)
			}
			return true
		})
	}
	refs, next := pg.result()
	items := make([]*record.Verp, len(refs))
	for i, r := range refs {
		items[i] = r.Verp()
	}
	writeJSON(w, http.StatusOK, VerpList{Verp: items, Next: next})
	return nil
}
