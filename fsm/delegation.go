package fsm

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

func init() {
	registerKind(command.DelegationPut, kind{apply: rejecting((*applier).delegationPut), rule: glueBelowCut})
	registerKind(command.DelegationDelete, kind{apply: rejecting((*applier).delegationDelete)})
}

// delegationPut creates or replaces the delegation of a prefix. A cut
// inside or around another delegation's cut is a conflict: resolvers
// follow the outer one, so the inner would never be asked.
func (a *applier) delegationPut(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.DelegationBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	d, key, rej := delegationFromBody(&b)
	if rej != nil {
		return command.Result{}, rej
	}
	v := a.view()
	if o := overlapping(v, key); o != nil {
		return command.Result{}, command.Reject(command.Conflict, "prefix %s overlaps the delegation of %s", d.Prefix, o.Prefix)
	}
	d.Created, d.Updated = e.Time, e.Time
	old := v.Delegation(key)
	if old != nil {
		d.Created = old.Created
	}
	if err := a.txn.PutDelegation(d); err != nil {
		return command.Result{}, command.Reject(command.Invalid, "%v", err)
	}
	return command.Result{Created: old == nil}, nil
}

// overlapping returns a delegation of v whose cut lies inside or around
// the cut key (not at it), or nil.
func overlapping(v *index.View, key string) *record.Delegation {
	for _, o := range v.Delegations() {
		okey, _ := record.CutKey(o.Prefix)
		if okey != key && (strings.HasPrefix(key, okey+".") || strings.HasPrefix(okey, key+".")) {
			return o
		}
	}
	return nil
}

// glueBelowCut is the proposal rule of a delegation: a name server with
// addresses (glue) must lie below one of the prefix's cuts
// (record.BelowCut), or the glue would put addresses at a name the
// delegation does not own — on secondaries, where wlns itself answers
// NXDOMAIN. A proposal rule, not an apply rule: entries already in the log
// apply as they did, and the zone sends no glue outside the cut anyway.
func glueBelowCut(body any) error {
	d, _, rej := delegationFromBody(body.(*command.DelegationBody))
	if rej != nil {
		return nil // apply rejects it, saying why
	}
	for _, ns := range d.NS {
		if len(ns.Addrs) > 0 && !record.BelowCut(d.Prefix, ns.Name) {
			return fmt.Errorf("name server %s of %s has addresses, but glue is only for a name server below the delegation's own cut "+
				"(as ns1.<cut>.relay.<apex>); give a name outside the wlns zone without addresses", ns.Name, d.Prefix)
		}
	}
	return nil
}

// delegationFromBody validates a DelegationBody into a record and its cut.
func delegationFromBody(b *command.DelegationBody) (*record.Delegation, string, *command.Rejection) {
	p, key, rej := delegationPrefix(b.Prefix)
	if rej != nil {
		return nil, "", rej
	}
	in := make([]record.NameServer, 0, len(b.NS))
	for _, ns := range b.NS {
		s := record.NameServer{Name: ns.Name}
		for _, txt := range ns.Addrs {
			addr, err := netip.ParseAddr(strings.TrimSpace(txt))
			if err != nil {
				return nil, "", command.Reject(command.Invalid, "name server %s: address %q: %v", ns.Name, txt, err)
			}
			s.Addrs = append(s.Addrs, addr)
		}
		in = append(in, s)
	}
	nss, err := record.NormalizeNameServers(in)
	if err != nil {
		return nil, "", command.Reject(command.Invalid, "%v", err)
	}
	return &record.Delegation{Prefix: p, NS: nss, By: b.By}, key, nil
}

// delegationPrefix parses a delegated prefix and finds its cut.
func delegationPrefix(s string) (netip.Prefix, string, *command.Rejection) {
	p, err := record.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, "", command.Reject(command.Invalid, "%v", err)
	}
	key, err := record.CutKey(p)
	if err != nil {
		return netip.Prefix{}, "", command.Reject(command.Invalid, "%v", err)
	}
	return p, key, nil
}

// delegationDelete removes the delegation of a prefix.
func (a *applier) delegationDelete(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.DelegationBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	p, key, rej := delegationPrefix(b.Prefix)
	if rej != nil {
		return command.Result{}, rej
	}
	if a.view().Delegation(key) == nil {
		return command.Result{}, command.Reject(command.NotFound, "%s is not delegated", p)
	}
	a.txn.DeleteDelegation(p)
	return command.Result{}, nil
}

// delegationOfMembers returns the delegation that holds one of prefixes,
// or nil: the answers for those addresses come from the postmaster's
// servers, not from this state.
func delegationOfMembers(v *index.View, prefixes []netip.Prefix) *record.Delegation {
	for _, p := range prefixes {
		if d := v.DelegationCovering(p); d != nil {
			return d
		}
	}
	return nil
}

// delegatedEntities returns a test for "entity id has a member in a
// delegated prefix", remembered per entity for one command.
func (a *applier) delegatedEntities() func(id uint64) bool {
	v := a.view()
	if len(v.DelegationDepths()) == 0 {
		return func(uint64) bool { return false }
	}
	known := map[uint64]bool{}
	return func(id uint64) bool {
		d, ok := known[id]
		if !ok {
			if ent := v.EntityRef(id); ent.Found() {
				d = delegationOfMembers(v, ent.Prefixes()) != nil
			}
			known[id] = d
		}
		return d
	}
}

// challengeRelay is what a challenge's relay is for the delegation test:
// its address when it names one, else every member of its entity.
func challengeRelay(c *record.Challenge, ent *record.Entity) []netip.Prefix {
	if ip, err := netip.ParseAddr(c.IP); err == nil {
		return []netip.Prefix{netip.PrefixFrom(ip, ip.BitLen())}
	}
	return ent.Prefixes
}

// challengeRelayLabel names a challenge's relay in a refusal.
func challengeRelayLabel(c *record.Challenge, ent *record.Entity) string {
	if c.IP != "" {
		return c.IP
	}
	return ent.Label()
}
