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
	registerKind(command.Import, kind{apply: (*applier).importRecords,
		check: func(e *command.Envelope, _ bool) error { return checkImport(e) }})
}

// maxProvenance bounds an Import's By and Method.
const maxProvenance = 128

// checkImport is the proposal-time check of an Import (Store.Apply): the
// record list decodes, every text is already normalised (what the API
// made of its input) and fits, every relay address is a plain one. The
// state machine then only decodes the list: the texts it stores are
// checked once, here, and every node applies the same bytes the same way.
func checkImport(e *command.Envelope) error {
	b, err := command.ImportBodyOf(e)
	if err != nil {
		return err
	}
	if len(b.By) > maxProvenance || len(b.Method) > maxProvenance {
		return fmt.Errorf("import by/method longer than %d bytes", maxProvenance)
	}
	l, err := command.DecodeImport(b.Records)
	if err != nil {
		return err
	}
	for _, r := range l.Registrations {
		if err := checkImportAddr(r.Addr); err != nil {
			return err
		}
	}
	for _, g := range l.Groups {
		if err := checkImportAddr(g.Relay.IP); err != nil {
			return err
		}
		for _, r := range g.Records {
			if err := checkImportText(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkImportAddr refuses a relay address that is not a plain one (the
// API unmaps and drops zones).
func checkImportAddr(a netip.Addr) error {
	if a.IsValid() && (a.Is4In6() || a.Zone() != "") {
		return fmt.Errorf("import relay %s is not a plain address", a)
	}
	return nil
}

// checkImportText refuses a text that normalisation would change.
func checkImportText(r command.ImportRecord) error {
	norm := record.NormalizeDomain
	if !r.Verp {
		norm = record.NormalizeSender
	}
	n, err := norm(r.Text)
	switch {
	case err != nil:
		return err
	case n != r.Text:
		return fmt.Errorf("import text %q is not normalised (%q)", r.Text, n)
	case !r.Verp && len(r.Text) > maxSender:
		return fmt.Errorf("sender longer than %d octets", maxSender)
	}
	return nil
}

// importRecords applies an Import all or nothing, like a Batch of the
// EntityPut of each registration, in order, then the PairPut and VerpPut
// of each record: each group's relay is resolved once (an address of no
// entity gets a new lone entity), then all records are added or refreshed
// in one bulk write (index.Txn.UpsertAll, leaf by leaf). A rejection's
// Index is the registration's or record's position in the list.
func (a *applier) importRecords(e *command.Envelope) command.Result {
	b, err := command.ImportBodyOf(e)
	if err != nil {
		return command.Result{Err: command.Reject(command.Invalid, "%v", err)}
	}
	l, err := command.DecodeImport(b.Records)
	if err != nil {
		return command.Result{Err: command.Reject(command.Invalid, "%v", err)}
	}
	child := &applier{txn: a.txn.Child(), st: a.st}
	created := false
	for i, r := range l.Registrations {
		res, rej := child.register(e.Time, r)
		if rej != nil {
			return command.Result{Err: importRejection(rej, i)}
		}
		created = created || res.Created
	}
	at, n := len(l.Registrations), 0
	for _, g := range l.Groups {
		n += len(g.Records)
	}
	ups := make([]index.Upsert, 0, n)
	for _, g := range l.Groups {
		id, rej := child.importRelay(e, g.Relay)
		if rej == nil {
			rej = checkImportLengths(g.Records)
		}
		if rej != nil {
			return command.Result{Err: importRejection(rej, at)}
		}
		for _, r := range g.Records {
			ups = append(ups, index.Upsert{Entity: id, Text: r.Text, Verp: r.Verp, Pinned: r.Pinned})
		}
		at += len(g.Records)
	}
	if child.txn.UpsertAll(ups, e.Time, b.By, b.Method) > 0 {
		created = true
	}
	a.txn.Adopt(child.txn)
	a.st = child.st
	return command.Result{Created: created}
}

// importRejection moves a rejection's Index by the list position off.
func importRejection(rej *command.Rejection, off int) *command.Rejection {
	rej.Index += off
	rej.Message = fmt.Sprintf("import record %d: %s", rej.Index, rej.Message)
	return rej
}

// checkImportLengths is the state machine's own check of a group's texts:
// the sender limit pairPut applies (nothing else is re-checked here, see
// checkImport). Its rejection's Index is the record within the group;
// importRecords adds the group's offset.
func checkImportLengths(rs []command.ImportRecord) *command.Rejection {
	for i, r := range rs {
		if !r.Verp && len(r.Text) > maxSender {
			return &command.Rejection{Code: command.Invalid, Index: i,
				Message: fmt.Sprintf("sender longer than %d octets", maxSender)}
		}
	}
	return nil
}

// importRelay resolves a group's relay to an entity ID, creating a lone
// entity for an address of none, as resolve does, without a copy of the
// entity it finds.
func (a *applier) importRelay(e *command.Envelope, r command.ImportRelay) (uint64, *command.Rejection) {
	v := a.view()
	if r.Entity != 0 {
		if !v.EntityRef(r.Entity).Found() {
			return 0, command.Reject(command.NotFound, "no entity %d", r.Entity)
		}
		return r.Entity, nil
	}
	addr := r.IP.Unmap()
	if !addr.IsValid() {
		return 0, command.Reject(command.Invalid, "import group without a relay")
	}
	if id := v.EntityRefOf(addr).ID(); id != 0 {
		return id, nil
	}
	return a.newLone(e.Time, addr).ID, nil
}

// register applies a registration as the EntityPut of r.Body() would
// (putEntityBody), with the same outcome and rejections, without making
// and parsing that body's prefix text: r's address is one already (the
// record list holds 4 or 16 bytes), and the entity a lone relay's.
func (a *applier) register(now int64, r command.ImportRegistration) (command.Result, *command.Rejection) {
	addr := r.Addr.Unmap() // record.ParsePrefix unmaps a /128 of an IPv4-mapped address
	if !addr.IsValid() {
		body := r.Body()
		return a.putEntityBody(now, &body)
	}
	ptr, rej := entityPTR(r.PTR)
	if rej != nil {
		return command.Result{}, rej
	}
	ent := &record.Entity{Prefixes: []netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}, Registered: true,
		Contact: strings.TrimSpace(r.Contact), PTR: ptr}
	return a.storeEntity(now, r.ID, r.Pinned, ent)
}
