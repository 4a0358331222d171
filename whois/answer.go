package whois

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Privacy settings: how much of an entity's contact address WHOIS shows.
const (
	// ContactFull shows the address.
	ContactFull = "full"
	// ContactDomain shows only its domain ("...@example.org").
	ContactDomain = "domain"
	// ContactNone shows that a contact is registered, not which.
	ContactNone = "none"
)

// writeEntity prints e's record, one "key: value" line each (a key
// repeats for a list), as RIRs' WHOIS servers do.
func (s *Server) writeEntity(w io.Writer, v *index.View, e *record.Entity) {
	kind := "relay"
	if e.Group {
		kind = "relay group"
	}
	line := func(k, v string) { fmt.Fprintf(w, "%-14s%s\r\n", k+":", v) }
	line("entity", fmt.Sprint(e.ID))
	line("kind", kind)
	if e.Name != "" {
		line("name", e.Name)
	}
	for _, p := range e.Prefixes {
		line("prefix", p.String())
	}
	line("registered", map[bool]string{true: "yes (answers in the relay zone)", false: "no"}[e.Registered])
	if c := s.contact(e.Contact); c != "" {
		line("contact", c)
	}
	if e.PTR != "" {
		line("ptr", e.PTR)
	}
	line("created", stamp(e.Created))
	line("updated", stamp(e.Updated))
	if e.LastQueried > 0 {
		line("last-queried", stamp(e.LastQueried))
	}
	if e.Pinned {
		line("pinned", "yes (never expires)")
	}
	writeDelegations(line, v, e)
}

// writeDelegations prints the delegations that overlap e's members (a
// prefix handed to a postmaster's own name servers, inside or around a
// member): below such a cut wlns answers referrals, not its own data.
func writeDelegations(line func(k, v string), v *index.View, e *record.Entity) {
	for _, d := range v.Delegations() {
		for _, p := range e.Prefixes {
			if d.Prefix.Overlaps(p) {
				var ns []string
				for _, n := range d.NS {
					ns = append(ns, n.Name)
				}
				line("delegation", d.Prefix.String()+" to "+strings.Join(ns, " ")+" since "+stamp(d.Created))
				break
			}
		}
	}
}

// contact is the contact as the privacy setting allows.
func (s *Server) contact(c string) string {
	if c == "" {
		return ""
	}
	switch s.cfg.Contact {
	case ContactFull:
		return c
	case ContactDomain:
		if i := strings.LastIndexByte(c, '@'); i >= 0 {
			return "(withheld)" + c[i:]
		}
	}
	return "(registered, withheld by the operator's privacy setting)"
}

func stamp(unix int64) string {
	if unix <= 0 {
		return "-"
	}
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}
