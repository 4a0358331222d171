// Package record defines the whitelist's data: relay entities, sender/relay
// pairs and VERP sources, with the validation and normalisation every writer
// applies before a record enters the replicated log.
//
// It owns the shapes and the rules for their fields. It must not know how
// records are stored, replicated or served: it imports only the standard
// library and golang.org/x/net/idna (domains in A-labels), and every other
// wlns package may import it.
package record

import (
	"net/netip"
	"sync/atomic"
)

// Meta is the bookkeeping every record carries. Times are Unix seconds set by
// the proposer of the command that wrote the record, never read from a clock
// while applying it.
type Meta struct {
	// Created is when the record was first written.
	Created int64 `json:"created"`
	// Updated is when the record was last changed.
	Updated int64 `json:"updated"`
	// LastQueried is the replicated time the record last answered a query,
	// zero when it never has. Expiry works from it (or from Created).
	LastQueried int64 `json:"last_queried,omitempty"`
	// Pinned records never expire.
	Pinned bool `json:"pinned,omitempty"`

	// seen is the local, unreplicated time of the last positive answer on
	// this node; the query path sets it with one atomic store.
	seen atomic.Int64
}

// MarkSeen records that the record answered a query at unix time now. It is
// safe to call from any goroutine and allocates nothing.
func (m *Meta) MarkSeen(now int64) {
	if m.seen.Load() < now {
		m.seen.Store(now)
	}
}

// Seen returns the local time of the last positive answer, or zero.
func (m *Meta) Seen() int64 { return m.seen.Load() }

// LastActive is when the record was last queried, or created when it never
// has been: what expiry measures from.
func (m *Meta) LastActive() int64 { return max(m.LastQueried, m.Created) }

// ExpiredAt reports whether the record expires under cutoff (Unix seconds;
// zero: the kind never expires): it is not pinned and was last active
// before cutoff.
func (m *Meta) ExpiredAt(cutoff int64) bool {
	return cutoff > 0 && !m.Pinned && m.LastActive() < cutoff
}

// CopyMetaTo copies m's replicated fields and its local seen mark into dst,
// for building a changed copy of a record.
func (m *Meta) CopyMetaTo(dst *Meta) {
	dst.Created, dst.Updated, dst.LastQueried, dst.Pinned = m.Created, m.Updated, m.LastQueried, m.Pinned
	dst.seen.Store(m.seen.Load())
}

// Entity is a relay: a named group of member prefixes, or a single relay
// address. An address belongs to the entity whose member prefix matches it
// longest. Whatever is verified through one member holds for all of them.
type Entity struct {
	// ID is assigned by the state machine and never reused.
	ID uint64 `json:"id"`
	// Name is the group's name, unique among groups; empty for a lone address.
	Name string `json:"name,omitempty"`
	// Group is true for a named relay group, false for a lone address.
	Group bool `json:"group"`
	// Prefixes are the members: single addresses (/32, /128) or CIDRs, masked.
	Prefixes []netip.Prefix `json:"prefixes"`
	// Registered is true when a postmaster registered the relay with contact
	// data; only registered entities answer in the relay zone.
	Registered bool `json:"registered"`
	// Contact is the accountable person or role address for the relay.
	Contact string `json:"contact,omitempty"`
	// PTR is the forward-confirmed reverse name of the relay.
	PTR string `json:"ptr,omitempty"`
	Meta
}

// Label returns how the entity is shown to users: its name, or for a lone
// address the address itself.
func (e *Entity) Label() string {
	if e.Name != "" {
		return e.Name
	}
	if len(e.Prefixes) == 1 {
		p := e.Prefixes[0]
		if p.IsSingleIP() {
			return p.Addr().String()
		}
		return p.String()
	}
	return "entity"
}

// Pair says that a sender address, or a whole sender domain, was verified as
// sending through an entity.
type Pair struct {
	// Entity is the ID of the relay entity.
	Entity uint64 `json:"entity"`
	// Sender is the lower-cased address "local@domain", or for a domain-wide
	// entry just the domain (no "@").
	Sender string `json:"sender"`
	// By says who verified the pair (token name, challenge, import).
	By string `json:"by,omitempty"`
	// Method says how: "api", "import", "link", "reply".
	Method string `json:"method,omitempty"`
	Meta
}

// DomainWide reports whether p covers every address of a domain.
func (p *Pair) DomainWide() bool { return !hasAt(p.Sender) }

// Verp says that an entity is a mailing-list server whose return paths at
// Domain are per-recipient (VERP) addresses.
type Verp struct {
	// Entity is the ID of the list server's relay entity.
	Entity uint64 `json:"entity"`
	// Domain is the lower-cased return-path domain.
	Domain string `json:"domain"`
	// By says who verified the listing.
	By string `json:"by,omitempty"`
	// Method says how: "api", "import", "link".
	Method string `json:"method,omitempty"`
	Meta
}

func hasAt(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			return true
		}
	}
	return false
}

// Role is what an API token may do.
type Role string

// Token roles.
const (
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
	// RolePostmaster may read everything and write records whose relay
	// addresses fall inside the token's prefixes.
	RolePostmaster Role = "postmaster"
	// RoleRead may only read.
	RoleRead Role = "read"
	// RoleMTA may request challenges (POST /v1/challenges: the policy
	// service or an MTA plugin) and read, nothing else.
	RoleMTA Role = "mta"
)

// Token is an API bearer token. Only the SHA-256 of its secret is stored.
type Token struct {
	// Name identifies the token; it is recorded as the By of what it writes.
	Name string `json:"name"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"hash"`
	// Role is what the token may do.
	Role Role `json:"role"`
	// Prefixes scope a postmaster token.
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
	// Created is when the token was made, Unix seconds.
	Created int64 `json:"created"`
}
