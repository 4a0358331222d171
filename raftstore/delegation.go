package raftstore

import (
	"net/netip"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

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
	for _, o := range v.Delegations() {
		okey, _ := record.CutKey(o.Prefix)
		if okey != key && (strings.HasPrefix(key, okey+".") || strings.HasPrefix(okey, key+".")) {
			return command.Result{}, command.Reject(command.Conflict, "prefix %s overlaps the delegation of %s", d.Prefix, o.Prefix)
		}
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
