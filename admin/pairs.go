package admin

import (
	"net/http"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// PairRequest is the body of POST /v1/pairs and of a "pair" import line.
type PairRequest struct {
	// Sender is an address, or a domain (optionally "@domain") for a
	// domain-wide pair.
	Sender string `json:"sender"`
	// IP names the relay by one of its addresses.
	IP string `json:"ip,omitempty"`
	// Entity names the relay by ID, instead of IP.
	Entity uint64 `json:"entity,omitempty"`
	// Pinned keeps the pair from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// PairList is the answer of GET /v1/pairs.
type PairList struct {
	// Pairs are sorted by entity, then sender.
	Pairs []*record.Pair `json:"pairs"`
	// Next is the cursor for the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// pairBody validates req for the caller against view v.
func pairBody(v *index.View, c *caller, req *PairRequest, method string) (command.PairBody, target, error) {
	sender, err := pairSender(req.Sender)
	if err != nil {
		return command.PairBody{}, target{}, err
	}
	t, err := resolveTarget(v, req.IP, req.Entity)
	if err != nil {
		return command.PairBody{}, target{}, err
	}
	if err := t.mayWrite(c); err != nil {
		return command.PairBody{}, target{}, err
	}
	body := command.PairBody{Sender: sender, Entity: req.Entity, By: c.name(), Method: method, Pinned: req.Pinned}
	if t.ip.IsValid() {
		body.IP = t.ip.String()
	}
	return body, t, nil
}

// pairSender normalises a pair's sender address or domain.
func pairSender(s string) (string, error) {
	sender, err := record.NormalizeSender(s)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "%v", err)
	}
	return sender, nil
}

func (a *API) putPair(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req PairRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	body, t, err := pairBody(a.store.Index().Load(), c, &req, "api")
	if err != nil {
		return err
	}
	res, err := a.propose(r.Context(), r, command.PairPut, body)
	if err != nil {
		return err
	}
	v := a.store.Index().Load()
	p := v.Pair(t.entityID(v, res.ID), []byte(body.Sender))
	if p == nil {
		return missingAfter(w, res, "pair "+body.Sender)
	}
	writeJSON(w, createdStatus(res), p)
	return nil
}

func createdStatus(res command.Result) int {
	if res.Created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (a *API) deletePair(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	id, err := queryUint(q.Get("entity"), "entity")
	if err != nil {
		return err
	}
	v := a.store.Index().Load()
	body, t, err := pairBody(v, c, &PairRequest{Sender: q.Get("sender"), IP: q.Get("ip"), Entity: id}, "")
	if err != nil {
		return err
	}
	if t.entity == nil || v.Pair(t.entity.ID, []byte(body.Sender)) == nil {
		return errorf(http.StatusNotFound, "no pair %s through %s", body.Sender, t)
	}
	body.By, body.Method = "", ""
	if _, err := a.propose(r.Context(), r, command.PairDelete, body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listPairs(w http.ResponseWriter, r *http.Request, _ *caller) error {
	v := a.store.Index().Load()
	f, err := parseFilter(v, r.URL.Query())
	if err != nil {
		return err
	}
	var sender, domain string
	if s := r.URL.Query().Get("sender"); s != "" {
		if sender, err = record.NormalizeSender(s); err != nil {
			return errorf(http.StatusBadRequest, "%v", err)
		}
	}
	if d := r.URL.Query().Get("domain"); d != "" {
		if domain, err = record.NormalizeDomain(d); err != nil {
			return errorf(http.StatusBadRequest, "invalid domain %q: %v", d, err)
		}
	}
	match := func(p index.Ref) bool {
		s := p.Key()
		return f.entityOK(p.Entity()) && (sender == "" || s == sender) &&
			(domain == "" || s == domain || strings.HasSuffix(s, "@"+domain))
	}
	pg := newPage(f.limit, f.after, refKey)
	if f.ids != nil && sender != "" {
		for id := range f.ids {
			if p := v.LookupPair(id, []byte(sender)); p.Found() && match(p) {
				pg.offer(p)
			}
		}
	} else if !f.empty {
		v.EachPair(func(p index.Ref) bool {
			if match(p) {
				pg.offer(p)
			}
			return true
		})
	}
	refs, next := pg.result()
	items := make([]*record.Pair, len(refs))
	for i, r := range refs {
		items[i] = r.Pair()
	}
	writeJSON(w, http.StatusOK, PairList{Pairs: items, Next: next})
	return nil
}

// refKey is the listing order of pairs and VERP sources: entity, then
// sender or domain.
func refKey(r index.Ref) key { return key{r.Entity(), r.Key()} }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
