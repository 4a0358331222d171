package admin

import (
	"bytes"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/delegcheck"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zone"
)

// DelegationRequest is the body of POST /v1/delegations.
type DelegationRequest struct {
	// Prefix is the prefix to delegate; its length ends on a DNS label
	// (IPv4 /8, /16, /24, /32; IPv6 a multiple of 4).
	Prefix string `json:"prefix"`
	// NS are the postmaster's name servers; give addresses (glue) for
	// names inside the wlns zone.
	NS []record.NameServer `json:"ns"`
}

// DelegationInfo is a delegation with this node's latest check of it.
type DelegationInfo struct {
	*record.Delegation
	// Cuts are the delegated names, one per tree (relay, sender, VERP).
	Cuts []string `json:"cuts"`
	// Lame is true when this node's latest check found a name server that
	// did not answer authoritatively for a cut; false also before the
	// first check (see Check).
	Lame bool `json:"lame"`
	// Check is this node's latest check; absent until the first one ends
	// or when checks are off.
	Check *delegcheck.Result `json:"check,omitempty"`
}

// DelegationList is the answer of GET /v1/delegations.
type DelegationList struct {
	// Delegations are sorted by prefix.
	Delegations []DelegationInfo `json:"delegations"`
}

// delegationPrefix parses a prefix to delegate and checks the caller may.
func delegationPrefix(c *caller, s string) (netip.Prefix, error) {
	p, err := record.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errorf(http.StatusBadRequest, "%v", err)
	}
	if _, err := record.CutKey(p); err != nil {
		return netip.Prefix{}, errorf(http.StatusBadRequest, "%v", err)
	}
	if err := c.mayWrite(p); err != nil {
		return netip.Prefix{}, err
	}
	return p, nil
}

// delegationBody validates a delegation for the caller.
func delegationBody(c *caller, apex string, req *DelegationRequest) (command.DelegationBody, error) {
	p, err := delegationPrefix(c, req.Prefix)
	if err != nil {
		return command.DelegationBody{}, err
	}
	nss, err := record.NormalizeNameServers(req.NS)
	if err != nil {
		return command.DelegationBody{}, errorf(http.StatusBadRequest, "%v", err)
	}
	if err := inBailiwick(p, nss, apex); err != nil {
		return command.DelegationBody{}, err
	}
	body := command.DelegationBody{Prefix: p.String(), By: c.name()}
	for _, ns := range req.NS {
		dn := command.DelegationNS{Name: ns.Name}
		for _, a := range ns.Addrs {
			dn.Addrs = append(dn.Addrs, a.String())
		}
		body.NS = append(body.NS, dn)
	}
	return body, nil
}

// inBailiwick checks the name servers of the delegation of p against the
// zone at apex: a name inside the zone must lie below one of p's cuts and
// have its addresses (glue), and only such a name may have addresses.
// Anywhere else in the zone the name would be wlns's to answer (NXDOMAIN),
// and its glue would put addresses at a name the delegation does not own.
// Without an apex only the last rule is checked, as the store does
// (record.BelowCut).
func inBailiwick(p netip.Prefix, nss []record.NameServer, apex string) error {
	var cuts []string
	if apex != "" {
		for _, tree := range record.Trees() {
			cut, err := qname.Cut(p, tree, apex)
			if err != nil {
				return errorf(http.StatusBadRequest, "%v", err)
			}
			cuts = append(cuts, strings.TrimSuffix(cut, "."))
		}
	}
	zone := strings.ToLower(strings.TrimSuffix(apex, "."))
	for _, ns := range nss {
		below := record.BelowCut(p, ns.Name)
		if apex != "" {
			below = slices.ContainsFunc(cuts, func(cut string) bool { return strings.HasSuffix(ns.Name, "."+cut) })
		}
		switch inZone := apex != "" && strings.HasSuffix(ns.Name, "."+zone); {
		case inZone && !below:
			return errorf(http.StatusBadRequest, "name server %s is inside the zone %s but not below a cut of %s (%s): "+
				"wlns answers that name itself; name it below the cut (ns1.%s) or outside the zone", ns.Name, zone, p, strings.Join(cuts, ", "), cuts[0])
		case inZone && len(ns.Addrs) == 0:
			return errorf(http.StatusBadRequest, "name server %s is below the cut, so resolvers need its address (glue): give it as %s=<address>", ns.Name, ns.Name)
		case !below && len(ns.Addrs) > 0:
			return errorf(http.StatusBadRequest, "name server %s is outside the delegation's cuts, so its address is not glue: "+
				"publish it in its own zone and give the name alone", ns.Name)
		}
	}
	return nil
}

func (a *API) putDelegation(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req DelegationRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	body, err := delegationBody(c, a.cfg.Apex, &req)
	if err != nil {
		return err
	}
	res, err := a.propose(r.Context(), r, command.DelegationPut, body)
	if err != nil {
		return err
	}
	p := netip.MustParsePrefix(body.Prefix)
	d := a.store.Index().Load().DelegationOf(p)
	if d == nil {
		return missingAfter(w, res, "delegation of "+p.String())
	}
	writeJSON(w, createdStatus(res), a.delegationInfo(d))
	return nil
}

func (a *API) deleteDelegation(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := delegationPrefix(c, r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	if a.store.Index().Load().DelegationOf(p) == nil {
		return errorf(http.StatusNotFound, "%s is not delegated", p)
	}
	if _, err := a.propose(r.Context(), r, command.DelegationDelete, command.DelegationBody{Prefix: p.String()}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listDelegations(w http.ResponseWriter, _ *http.Request, _ *caller) error {
	out := DelegationList{Delegations: []DelegationInfo{}}
	for _, d := range a.store.Index().Load().Delegations() {
		out.Delegations = append(out.Delegations, a.delegationInfo(d))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// delegationInfo adds the cut names and this node's check to d.
func (a *API) delegationInfo(d *record.Delegation) DelegationInfo {
	return NewDelegationInfo(d, a.cfg.Apex, a.cfg.DelegationCheck)
}

// NewDelegationInfo adds to d its cut names under apex (none when apex
// is empty) and the latest result of check (nil: checks are off), as
// GET /v1/delegations shows them.
func NewDelegationInfo(d *record.Delegation, apex string, check func(netip.Prefix) *delegcheck.Result) DelegationInfo {
	info := DelegationInfo{Delegation: d, Cuts: []string{}}
	if apex != "" {
		for _, tree := range record.Trees() {
			if cut, err := qname.Cut(d.Prefix, tree, apex); err == nil {
				info.Cuts = append(info.Cuts, cut)
			}
		}
	}
	if check != nil {
		info.Check = check(d.Prefix)
		info.Lame = info.Check != nil && info.Check.Lame
	}
	return info
}

// exportDelegation writes the zone file of one tree of a delegation
// (GET /v1/delegations/zone?prefix=&tree=), for the postmaster's own
// BIND, NSD or Knot: see zone.Export.
func (a *API) exportDelegation(w http.ResponseWriter, r *http.Request, _ *caller) error {
	q := r.URL.Query()
	p, err := record.ParsePrefix(q.Get("prefix"))
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if a.cfg.Apex == "" {
		return errorf(http.StatusServiceUnavailable, "this node does not know the zone's apex")
	}
	v := a.store.Index().Load()
	d := v.DelegationOf(p)
	if d == nil {
		return errorf(http.StatusNotFound, "%s is not delegated", p)
	}
	tree := q.Get("tree")
	if tree == "" {
		tree = qname.RelayZone
	}
	var buf bytes.Buffer
	if err := zone.Export(&buf, v, d, zone.ExportConfig{Apex: a.cfg.Apex, Tree: tree, Hostmaster: q.Get("hostmaster")}); err != nil {
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	w.Header().Set("Content-Type", "text/dns; charset=utf-8")
	_, err = w.Write(buf.Bytes())
	return err
}
