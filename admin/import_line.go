package admin

import (
	"net/http"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// importKinds are the kinds an import line may have.
var importKinds = map[string]bool{"pair": true, "verp": true, "relay": true, "group": true}

// command validates one import line and builds its command.
func (imp *importer) command(b []byte) (*command.Envelope, error) {
	var l ImportLine
	if err := decodeObject(b, &l); err != nil {
		return nil, err
	}
	if !importKinds[l.Kind] {
		return nil, errorf(http.StatusBadRequest, "unknown kind %q: want pair, verp, relay or group", l.Kind)
	}
	if f := l.stray(); f != "" {
		return nil, errorf(http.StatusBadRequest, "field %q does not apply to kind %q", f, l.Kind)
	}
	var (
		t    command.Type
		body any
		err  error
	)
	switch l.Kind {
	case "pair":
		t = command.PairPut
		body, _, err = pairBody(imp.v, imp.c, &PairRequest{Sender: l.Sender, IP: l.IP, Entity: l.Entity, Pinned: l.Pinned}, "import")
	case "verp":
		t = command.VerpPut
		body, _, err = verpBody(imp.v, imp.c, &VerpRequest{Domain: l.Domain, IP: l.IP, Entity: l.Entity, Pinned: l.Pinned}, "import")
	case "relay":
		t = command.EntityPut
		imp.sync() // registering an address looks at the entities earlier lines made
		body, err = relayBody(imp.v, imp.c, &RelayRequest{IP: l.IP, Contact: l.Contact, PTR: l.PTR, Pinned: l.Pinned})
	case "group":
		t = command.EntityPut
		imp.sync() // a group replaces the one of its name earlier lines made
		body, err = imp.groupBody(&l)
	}
	if err != nil {
		return nil, err
	}
	return command.New(t, imp.now, "", body)
}

// groupBody builds a group line's command, replacing a group of that name.
func (imp *importer) groupBody(l *ImportLine) (command.EntityBody, error) {
	if imp.groups == nil {
		imp.groups = make(map[string]*record.Entity)
		imp.v.Entities(func(e *record.Entity) bool {
			if e.Group {
				imp.groups[e.Name] = e
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
	var allowed string
	switch l.Kind {
	case "pair":
		allowed = " sender ip entity "
	case "verp":
		allowed = " domain ip entity "
	case "relay":
		allowed = " ip contact ptr "
	case "group":
		allowed = " name members contact ptr registered "
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"sender", l.Sender != ""}, {"domain", l.Domain != ""}, {"ip", l.IP != ""}, {"entity", l.Entity != 0},
		{"name", l.Name != ""}, {"members", l.Members != nil}, {"contact", l.Contact != ""}, {"ptr", l.PTR != ""},
		{"registered", l.Registered},
	} {
		if f.set && !strings.Contains(allowed, " "+f.name+" ") {
			return f.name
		}
	}
	return ""
}

// sync waits for the batch in flight, so that the next line is checked
// against everything before it (lines of the batch being filled excepted).
// A store error stops the import through imp.failed.
func (imp *importer) sync() { _ = imp.wait() }
