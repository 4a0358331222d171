package admin

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// item validates one import line into a batch item: a pair or VERP
// record, or a relay or group command.
func (imp *importer) item(b []byte) (batchItem, error) {
	var l ImportLine
	if !parseLineFast(b, &l) {
		l = ImportLine{}
		if err := decodeObject(b, &l); err != nil {
			return batchItem{}, err
		}
	}
	if _, ok := lineFields[l.Kind]; !ok {
		return batchItem{}, errorf(http.StatusBadRequest, "unknown kind %q: want pair, verp, relay or group", l.Kind)
	}
	if f := l.stray(); f != "" {
		return batchItem{}, errorf(http.StatusBadRequest, "field %q does not apply to kind %q", f, l.Kind)
	}
	if (l.Kind == "pair" || l.Kind == "verp") && l.IP != "" && l.Entity == 0 && imp.c.tok.Role == record.RoleAdmin {
		return adminRecord(&l)
	}
	switch l.Kind {
	case "pair":
		body, t, err := pairBody(imp.v, imp.c, &PairRequest{Sender: l.Sender, IP: l.IP, Entity: l.Entity, Pinned: l.Pinned}, importMethod)
		if err != nil {
			return batchItem{}, err
		}
		return batchItem{relay: command.ImportRelay{Entity: body.Entity, IP: t.ip},
			rec: command.ImportRecord{Text: body.Sender, Pinned: body.Pinned}}, nil
	case "verp":
		body, t, err := verpBody(imp.v, imp.c, &VerpRequest{Domain: l.Domain, IP: l.IP, Entity: l.Entity, Pinned: l.Pinned}, importMethod)
		if err != nil {
			return batchItem{}, err
		}
		return batchItem{relay: command.ImportRelay{Entity: body.Entity, IP: t.ip},
			rec: command.ImportRecord{Text: body.Domain, Verp: true, Pinned: body.Pinned}}, nil
	}
	var (
		body any
		err  error
	)
	switch l.Kind {
	case "relay":
		return imp.relayItem(&l)
	case "group":
		imp.sync() // a group replaces the one of its name earlier lines made
		body, err = imp.groupBody(&l)
	}
	if err != nil {
		return batchItem{}, err
	}
	env, err := command.New(command.EntityPut, imp.now, "", body)
	return batchItem{env: env}, err
}

// adminRecord validates an admin's pair or VERP line naming its relay by
// address: what pairBody or verpBody check, without looking the address's
// entity up (only a postmaster's write depends on it).
func adminRecord(l *ImportLine) (batchItem, error) {
	verp := l.Kind == "verp"
	var (
		text string
		err  error
	)
	if verp {
		text, err = verpDomain(l.Domain)
	} else {
		text, err = pairSender(l.Sender)
	}
	if err != nil {
		return batchItem{}, err
	}
	ip, err := parseIP(l.IP)
	if err != nil {
		return batchItem{}, err
	}
	return batchItem{relay: command.ImportRelay{IP: ip}, rec: command.ImportRecord{Text: text, Verp: verp, Pinned: l.Pinned}}, nil
}

// relayItem validates a relay line into a registration.
func (imp *importer) relayItem(l *ImportLine) (batchItem, error) {
	imp.syncRelay(l.IP) // registering an address looks at the entities earlier lines made
	reg, err := relayRegistration(imp.v, imp.c, &RelayRequest{IP: l.IP, Contact: l.Contact, PTR: l.PTR, Pinned: l.Pinned})
	if err != nil {
		return batchItem{}, err
	}
	return batchItem{isReg: true, reg: reg}, nil
}

// importMethod is the Method of imported records.
const importMethod = "import"

// envelope builds the command of batch p with request ID id: one Import
// of its records, or, when it has relay or group lines, a Batch of its
// commands in line order. It sets p.lines to the input line of each record
// or command in the order a rejection's Index counts them.
func (imp *importer) envelope(p *pendingBatch, id string) (*command.Envelope, error) {
	if !p.mixed {
		var w command.ImportWriter
		for i := range p.items {
			if it := &p.items[i]; it.isReg {
				w.AddRegistration(it.reg)
			} else {
				w.Add(it.relay, it.rec)
			}
		}
		recs, order := w.Encode()
		p.lines = make([]int, len(order))
		for i, o := range order {
			p.lines[i] = p.items[o].line
		}
		return command.New(command.Import, imp.now, id, command.ImportBody{By: imp.c.name(), Method: importMethod, Records: recs})
	}
	cmds := make([]command.Envelope, len(p.items))
	p.lines = make([]int, len(p.items))
	for i := range p.items {
		it := &p.items[i]
		p.lines[i] = it.line
		if it.env != nil {
			cmds[i] = *it.env
			continue
		}
		env, err := imp.itemCommand(it)
		if err != nil {
			return nil, err
		}
		cmds[i] = *env
	}
	return command.New(command.Batch, imp.now, id, command.BatchBody{Commands: cmds})
}

// itemCommand is the EntityPut of a registration item, or the PairPut or
// VerpPut of a record item.
func (imp *importer) itemCommand(it *batchItem) (*command.Envelope, error) {
	if it.isReg {
		return command.New(command.EntityPut, imp.now, "", it.reg.Body())
	}
	var ip string
	if it.relay.IP.IsValid() {
		ip = it.relay.IP.String()
	}
	if it.rec.Verp {
		return command.New(command.VerpPut, imp.now, "", command.VerpBody{Domain: it.rec.Text, Entity: it.relay.Entity,
			IP: ip, By: imp.c.name(), Method: importMethod, Pinned: it.rec.Pinned})
	}
	return command.New(command.PairPut, imp.now, "", command.PairBody{Sender: it.rec.Text, Entity: it.relay.Entity,
		IP: ip, By: imp.c.name(), Method: importMethod, Pinned: it.rec.Pinned})
}

// groupBody builds a group line's command, replacing a group of that name.
func (imp *importer) groupBody(l *ImportLine) (command.EntityBody, error) {
	if imp.groups == nil {
		imp.groups = make(map[string]*record.Entity)
		imp.v.EachEntity(func(e index.EntityRef) bool {
			if e.Group() {
				imp.groups[e.Name()] = e.Entity()
			}
			return true
		})
	}
	req := &GroupRequest{Name: l.Name, Members: l.Members, Contact: l.Contact, PTR: l.PTR,
		Registered: l.Registered, Pinned: l.Pinned}
	name, err := normalizeGroupName(l.Name)
	if err != nil {
		return command.EntityBody{}, err
	}
	return groupBody(imp.v, imp.c, req, imp.groups[name])
}

// stray names a field that is set but does not apply to the line's kind.
func (l *ImportLine) stray() string {
	allowed := lineFields[l.Kind]
	for i, set := range [...]bool{l.Sender != "", l.Domain != "", l.IP != "", l.Entity != 0,
		l.Name != "", l.Members != nil, l.Contact != "", l.PTR != "", l.Registered} {
		if set && allowed&(1<<i) == 0 {
			return lineFieldNames[i]
		}
	}
	return ""
}

// lineFieldNames are the fields stray checks, in its order; lineFields
// holds, by kind, a bit (1 << position) for each field the kind takes.
var (
	lineFieldNames = [...]string{"sender", "domain", "ip", "entity", "name", "members", "contact", "ptr", "registered"}
	lineFields     = map[string]uint{
		"pair":  fieldBits("sender", "ip", "entity"),
		"verp":  fieldBits("domain", "ip", "entity"),
		"relay": fieldBits("ip", "contact", "ptr"),
		"group": fieldBits("name", "members", "contact", "ptr", "registered"),
	}
)

// fieldBits is the lineFields bits of the named fields.
func fieldBits(names ...string) uint {
	var bits uint
	for i, f := range lineFieldNames {
		if slices.Contains(names, f) {
			bits |= 1 << i
		}
	}
	return bits
}

// syncRelay waits for the batch in flight when it may change what a relay
// line for ip is checked against: when it has a group line, or a line
// naming ip (a relay registered, or a lone entity a pair or VERP source
// creates for its address). Relay lines of a bulk import then seldom wait.
func (imp *importer) syncRelay(ip string) {
	f := imp.flying
	if f == nil {
		return
	}
	addr, err := parseIP(ip)
	if err != nil || f.batch.hasGroup || f.names(addr) {
		imp.sync()
	}
}

// names reports whether a line of the batch names addr as its relay (a
// record naming its relay by ID creates no entity).
func (f *inFlight) names(addr netip.Addr) bool {
	if f.addrs == nil {
		f.addrs = make(map[netip.Addr]bool, len(f.batch.items))
		for i := range f.batch.items {
			if it := &f.batch.items[i]; it.isReg {
				f.addrs[it.reg.Addr] = true
			} else if it.relay.IP.IsValid() {
				f.addrs[it.relay.IP] = true
			}
		}
	}
	return f.addrs[addr]
}

// sync waits for the batch in flight, so that the next line is checked
// against everything before it (lines of the batch being filled excepted).
// A store error stops the import through imp.failed.
func (imp *importer) sync() { _ = imp.wait() }
