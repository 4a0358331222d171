package fsm

import (
	"net/netip"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func init() {
	registerKind(command.PairPut, kind{apply: rejecting((*applier).pairPut)})
	registerKind(command.PairDelete, kind{apply: rejecting((*applier).pairDelete)})
	registerKind(command.VerpPut, kind{apply: rejecting((*applier).verpPut)})
	registerKind(command.VerpDelete, kind{apply: rejecting((*applier).verpDelete)})
}

// maxSender is the longest sender address kept: RFC 5321 §4.5.3.1.3 limits
// a path to 256 octets including the angle brackets.
const maxSender = 254

// resolve finds the entity a pair or VERP command names, by ID or by an IP
// address (longest-prefix match). With create, an address that belongs to
// no entity gets a new unregistered lone entity.
func (a *applier) resolve(e *command.Envelope, id uint64, ip string, create bool) (*record.Entity, *command.Rejection) {
	switch {
	case id != 0 && ip != "":
		return nil, command.Reject(command.Invalid, "give an entity or an ip, not both")
	case id != 0:
		ent := a.view().Entity(id)
		if ent == nil {
			return nil, command.Reject(command.NotFound, "no entity %d", id)
		}
		return ent, nil
	case ip == "":
		return nil, command.Reject(command.Invalid, "an entity or an ip is required")
	}
	addr, rej := parseAddr(ip)
	if rej != nil {
		return nil, rej
	}
	return a.resolveAddr(e, addr, create)
}

// resolveAddr finds the entity of addr by longest-prefix match; with
// create, an address of no entity gets a new unregistered lone entity.
func (a *applier) resolveAddr(e *command.Envelope, addr netip.Addr, create bool) (*record.Entity, *command.Rejection) {
	if ent := a.view().EntityOf(addr); ent != nil {
		return ent, nil
	}
	if !create {
		return nil, command.Reject(command.NotFound, "no relay entity has address %s", addr)
	}
	return a.newLone(e.Time, addr), nil
}

// newLone creates the unregistered lone entity of addr, which has none.
func (a *applier) newLone(now int64, addr netip.Addr) *record.Entity {
	ent := &record.Entity{ID: a.newID(), Prefixes: []netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}}
	ent.Created, ent.Updated = now, now
	a.putEntity(nil, ent)
	return ent
}

// pairArgs decodes a PairBody and normalises its sender.
func pairArgs(e *command.Envelope) (*command.PairBody, string, *command.Rejection) {
	var b command.PairBody
	if rej := decodeBody(e, &b); rej != nil {
		return nil, "", rej
	}
	sender, err := normalizeSender(e, b.Sender)
	if err != nil {
		return nil, "", command.Reject(command.Invalid, "%v", err)
	}
	if len(sender) > maxSender {
		return nil, "", command.Reject(command.Invalid, "sender longer than %d octets", maxSender)
	}
	return &b, sender, nil
}

// normalizeSender normalises a sender as e's version did: an entry
// written before command.QuotedSenderVersion with the normalisation it
// applied with then (record.NormalizeSenderV6), so that the logs older
// builds wrote replay exactly as they first applied.
func normalizeSender(e *command.Envelope, s string) (string, error) {
	if e.V < command.QuotedSenderVersion {
		return record.NormalizeSenderV6(s)
	}
	return record.NormalizeSender(s)
}

// pairPut adds a pair, or refreshes its Updated time and pinned flag.
func (a *applier) pairPut(e *command.Envelope) (command.Result, *command.Rejection) {
	b, sender, rej := pairArgs(e)
	if rej != nil {
		return command.Result{}, rej
	}
	ent, rej := a.resolve(e, b.Entity, b.IP, true)
	if rej != nil {
		return command.Result{}, rej
	}
	p := &record.Pair{Entity: ent.ID, Sender: sender, By: b.By, Method: b.Method}
	old := a.view().Pair(ent.ID, []byte(sender))
	if old != nil {
		old.CopyMetaTo(&p.Meta)
		p.By, p.Method = old.By, old.Method
	} else {
		p.Created = e.Time
	}
	p.Updated, p.Pinned = e.Time, b.Pinned
	a.txn.PutPair(p)
	return command.Result{ID: ent.ID, Created: old == nil}, nil
}

// pairDelete deletes a pair.
func (a *applier) pairDelete(e *command.Envelope) (command.Result, *command.Rejection) {
	b, sender, rej := pairArgs(e)
	if rej != nil {
		return command.Result{}, rej
	}
	ent, rej := a.resolve(e, b.Entity, b.IP, false)
	if rej != nil {
		return command.Result{}, rej
	}
	if a.view().Pair(ent.ID, []byte(sender)) == nil {
		return command.Result{}, command.Reject(command.NotFound, "no pair %s via entity %d", sender, ent.ID)
	}
	a.txn.DeletePair(ent.ID, sender)
	return command.Result{ID: ent.ID}, nil
}

// verpArgs decodes a VerpBody and normalises its domain.
func verpArgs(e *command.Envelope) (*command.VerpBody, string, *command.Rejection) {
	var b command.VerpBody
	if rej := decodeBody(e, &b); rej != nil {
		return nil, "", rej
	}
	d, err := record.NormalizeDomain(b.Domain)
	if err != nil {
		return nil, "", command.Reject(command.Invalid, "%v", err)
	}
	return &b, d, nil
}

// verpPut adds a VERP source, or refreshes its Updated time and pinned flag.
func (a *applier) verpPut(e *command.Envelope) (command.Result, *command.Rejection) {
	b, domain, rej := verpArgs(e)
	if rej != nil {
		return command.Result{}, rej
	}
	ent, rej := a.resolve(e, b.Entity, b.IP, true)
	if rej != nil {
		return command.Result{}, rej
	}
	vp := &record.Verp{Entity: ent.ID, Domain: domain, By: b.By, Method: b.Method}
	old := a.view().Verp(ent.ID, []byte(domain))
	if old != nil {
		old.CopyMetaTo(&vp.Meta)
		vp.By, vp.Method = old.By, old.Method
	} else {
		vp.Created = e.Time
	}
	vp.Updated, vp.Pinned = e.Time, b.Pinned
	a.txn.PutVerp(vp)
	return command.Result{ID: ent.ID, Created: old == nil}, nil
}

// verpDelete deletes a VERP source.
func (a *applier) verpDelete(e *command.Envelope) (command.Result, *command.Rejection) {
	b, domain, rej := verpArgs(e)
	if rej != nil {
		return command.Result{}, rej
	}
	ent, rej := a.resolve(e, b.Entity, b.IP, false)
	if rej != nil {
		return command.Result{}, rej
	}
	if a.view().Verp(ent.ID, []byte(domain)) == nil {
		return command.Result{}, command.Reject(command.NotFound, "no VERP source %s via entity %d", domain, ent.ID)
	}
	a.txn.DeleteVerp(ent.ID, domain)
	return command.Result{ID: ent.ID}, nil
}
