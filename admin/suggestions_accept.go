package admin

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/suggest"
)

// acceptCommands builds the batch that accepts s: delete each lone relay,
// give its members to the group (a new one, or the suggestion's), and put
// its pairs and VERP sources again under the group, named by the relay's
// address so they resolve to the group when they apply. The whole batch
// applies or none of it does.
func acceptCommands(v *index.View, s *suggest.Suggestion, req *AcceptRequest, now int64) ([]command.Envelope, error) {
	lones, err := currentLones(v, s)
	if err != nil {
		return nil, err
	}
	var b cmdList
	var members []string
	for _, r := range lones {
		b.add(command.EntityDelete, command.EntityBody{ID: r.ID}, now)
		for _, p := range r.Prefixes {
			members = append(members, p.String())
		}
	}
	if s.Group != 0 {
		b.add(command.MembersAdd, command.MembersBody{Entity: s.Group, Prefixes: members}, now)
	} else {
		body, err := newGroupBody(v, lones, members, req)
		if err != nil {
			return nil, err
		}
		b.add(command.EntityPut, body, now)
	}
	moveRecords(v, lones, &b, now)
	return b.cmds, b.err
}

// currentLones checks that s's entities are still as it shows them and
// returns its lone relays; a suggestion made before a change is stale.
func currentLones(v *index.View, s *suggest.Suggestion) ([]suggest.Relay, error) {
	var lones []suggest.Relay
	records := 0
	for _, r := range s.Relays {
		e := v.EntityRef(r.ID)
		if !e.Found() || e.Group() != r.Group || !slices.Equal(e.Prefixes(), r.Prefixes) {
			return nil, errorf(http.StatusConflict, "suggestion %s is stale: entity %d changed since; read the suggestions again", s.ID, r.ID)
		}
		if !r.Group {
			lones = append(lones, r)
			records += v.RecordsOf(r.ID)
		}
	}
	if records > maxAcceptRecords {
		return nil, errorf(http.StatusConflict, "the relays of suggestion %s hold %d pairs and VERP sources, more than one accept moves (%d): group them by hand (export, create the group, import)", s.ID, records, maxAcceptRecords)
	}
	return lones, nil
}

// newGroupBody is the group a suggestion of lone relays creates: registered
// when any of them is, with the request's contact or the first registered
// relay's, pinned when any is.
func newGroupBody(v *index.View, lones []suggest.Relay, members []string, req *AcceptRequest) (command.EntityBody, error) {
	if req.Name == "" {
		return command.EntityBody{}, errorf(http.StatusBadRequest, "name is required: the suggestion makes a new group")
	}
	name, err := normalizeGroupName(req.Name)
	if err != nil {
		return command.EntityBody{}, err
	}
	if other := groupByName(v, name); other != nil {
		return command.EntityBody{}, errorf(http.StatusConflict, "group %q exists (entity %d)", name, other.ID)
	}
	body := command.EntityBody{Name: name, Group: true, Prefixes: members, Contact: req.Contact}
	for _, r := range lones {
		e := v.EntityRef(r.ID)
		if e.Registered() && !body.Registered {
			body.Registered = true
			if body.Contact == "" {
				body.Contact = e.Contact()
			}
		}
		body.Pinned = body.Pinned || e.Pinned()
	}
	if body.Contact, err = normalizeContact(body.Contact, body.Registered); err != nil {
		return command.EntityBody{}, err
	}
	return body, nil
}

// moveRecords adds a put of every pair and VERP source of lones, each
// sender or domain once, keeping who verified it and how.
func moveRecords(v *index.View, lones []suggest.Relay, b *cmdList, now int64) {
	ip := make(map[uint64]string, len(lones))
	for _, r := range lones {
		ip[r.ID] = r.Prefixes[0].Addr().String()
	}
	pairs, verps := map[string]bool{}, map[string]bool{}
	v.EachPair(func(p index.Ref) bool {
		if at, ok := ip[p.Entity()]; ok && !pairs[p.Key()] {
			pairs[p.Key()] = true
			b.add(command.PairPut, command.PairBody{Sender: p.Key(), IP: at, By: p.By(), Method: p.Method(), Pinned: p.Pinned()}, now)
		}
		return true
	})
	v.EachVerp(func(p index.Ref) bool {
		if at, ok := ip[p.Entity()]; ok && !verps[p.Key()] {
			verps[p.Key()] = true
			b.add(command.VerpPut, command.VerpBody{Domain: p.Key(), IP: at, By: p.By(), Method: p.Method(), Pinned: p.Pinned()}, now)
		}
		return true
	})
}

// cmdList collects a batch's commands and the first error building them.
type cmdList struct {
	cmds []command.Envelope
	err  error
}

func (b *cmdList) add(t command.Type, body any, now int64) {
	env, err := command.New(t, now, "", body)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return
	}
	b.cmds = append(b.cmds, *env)
}

// cmdsGroupName is the name of the group an accept's batch creates, or "".
func cmdsGroupName(cmds []command.Envelope) string {
	for _, e := range cmds {
		if e.Type == command.EntityPut {
			var b command.EntityBody
			if json.Unmarshal(e.Body, &b) == nil {
				return b.Name
			}
		}
	}
	return ""
}
