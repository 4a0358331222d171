// Package command defines the replicated command set: the only way anything
// changes the whitelist. Every command travels in a versioned Envelope that
// carries the proposer's clock and a request ID, so the state machine never
// reads a clock or a random source and can drop a command it already applied.
//
// The package owns the wire shapes and their encoding: a log entry is JSON
// or, from envelope version 7, binary (binary.go: a first byte of
// BinaryMark, the framing of package command/wire). It must not apply
// commands (package fsm does) nor know where they come from (admin,
// expiry, verification), nor decide when a leader may write the binary
// form (raftstore does).
package command

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Version is the newest envelope version this build writes. Decode accepts
// every version up to it. Version 2 added Touch and Expire; version 3 added
// the challenge commands, the "mta" token role and ExpireBody.Challenges;
// version 4 added ChallengeLimits.PerDomainRelay and Sliding; version 5
// added Import (a binary record list: a bulk import costs no JSON per record),
// Group (concurrent writes in one log entry), the zone record commands and
// DelegationPut/DelegationDelete; version 6 added SuggestionDismiss and
// ZoneSerial; version 7 added binary log entries (binary.go) for the
// single writes and the groups that carry them, which a store writes only
// once every member reads them; version 8 keeps the quotes of a quoted
// local part that unquoted would read as another sender
// (QuotedSenderVersion).
// An older replica refuses (stops on) newer entries rather than skipping
// them and diverging.
//
// New stamps each envelope with the lowest version that can carry it
// (MinVersion), not with Version: a node running this build keeps writing
// entries that older nodes in the same cluster apply, so a rolling upgrade
// works, and only the commands an older node would apply differently (a
// type it does not know, a token role it refuses) stop it. The rule for a
// change: a command whose outcome would differ on an older build needs a
// new version. An Expire stays at 2 even with a Challenges cutoff: a
// version-2 node ignores the field, and it holds no verification state
// (all of it comes from version-3 commands it would have stopped at), so
// its outcome is the same. The state machine branches on V in one place
// only: a sender normalises as the entry's version did (see
// QuotedSenderVersion), so that an entry an older build wrote replays
// exactly as it first applied; otherwise a command means the same
// whatever version carries it.
const Version = 8

// Type names a command.
type Type string

// The command types.
const (
	// EntityPut creates (ID 0) or replaces a relay group or a registered relay.
	EntityPut Type = "entity.put"
	// EntityDelete deletes an entity with its pairs and VERP sources.
	EntityDelete Type = "entity.delete"
	// MembersAdd adds member prefixes to an entity.
	MembersAdd Type = "members.add"
	// MembersRemove removes member prefixes from an entity.
	MembersRemove Type = "members.remove"
	// PairPut adds or refreshes a sender/relay pair.
	PairPut Type = "pair.put"
	// PairDelete deletes a sender/relay pair.
	PairDelete Type = "pair.delete"
	// VerpPut adds or refreshes a VERP source.
	VerpPut Type = "verp.put"
	// VerpDelete deletes a VERP source.
	VerpDelete Type = "verp.delete"
	// TokenPut adds or replaces an API token (stored as a hash).
	TokenPut Type = "token.put"
	// TokenDelete revokes an API token.
	TokenDelete Type = "token.delete"
	// Batch applies its commands all or nothing.
	Batch Type = "batch"
)

// Envelope is one entry of the replicated log.
type Envelope struct {
	// V is the envelope version.
	V int `json:"v"`
	// Type selects the body's shape.
	Type Type `json:"type"`
	// Time is the proposer's clock, Unix seconds; it becomes the records'
	// Created/Updated times.
	Time int64 `json:"time"`
	// ReqID identifies the request, so a retried proposal applies once.
	ReqID string `json:"req,omitempty"`
	// Body is the type's payload.
	Body json.RawMessage `json:"body"`

	// val is the typed body New encoded Body from (valRaw is that Body),
	// or the one a binary entry held (Body and valRaw nil): DecodeBody
	// copies it instead of decoding JSON (see typed).
	val    any
	valRaw json.RawMessage
}

// EntityBody is the body of EntityPut and EntityDelete (ID only).
type EntityBody struct {
	// ID is zero to create an entity, or the entity to replace or delete.
	ID uint64 `json:"id,omitempty"`
	// Name is the group name; empty for a lone relay address.
	Name string `json:"name,omitempty"`
	// Group marks a named relay group.
	Group bool `json:"group,omitempty"`
	// Prefixes are member addresses or CIDRs.
	Prefixes []string `json:"prefixes,omitempty"`
	// Registered marks a relay registration with contact data.
	Registered bool `json:"registered,omitempty"`
	// Contact is the accountable address for the relay.
	Contact string `json:"contact,omitempty"`
	// PTR is the relay's forward-confirmed reverse name.
	PTR string `json:"ptr,omitempty"`
	// Pinned keeps the entity from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// MembersBody is the body of MembersAdd and MembersRemove.
type MembersBody struct {
	// Entity is the entity to change.
	Entity uint64 `json:"entity"`
	// Prefixes are the addresses or CIDRs to add or remove.
	Prefixes []string `json:"prefixes"`
}

// PairBody is the body of PairPut and PairDelete. The entity is named by ID,
// or by an IP address it is resolved from by longest-prefix match at apply
// time; PairPut creates an unregistered lone-address entity for an IP that
// belongs to none.
type PairBody struct {
	// Sender is an address, or a domain for a domain-wide pair.
	Sender string `json:"sender"`
	// Entity is the relay entity's ID, or zero when IP names it.
	Entity uint64 `json:"entity,omitempty"`
	// IP is a relay address whose entity the pair belongs to.
	IP string `json:"ip,omitempty"`
	// By says who verified the pair.
	By string `json:"by,omitempty"`
	// Method says how it was verified.
	Method string `json:"method,omitempty"`
	// Pinned keeps the pair from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// VerpBody is the body of VerpPut and VerpDelete; Entity and IP as in PairBody.
type VerpBody struct {
	// Domain is the list's return-path domain.
	Domain string `json:"domain"`
	// Entity is the list server's entity ID, or zero when IP names it.
	Entity uint64 `json:"entity,omitempty"`
	// IP is a list server address.
	IP string `json:"ip,omitempty"`
	// By says who verified the listing.
	By string `json:"by,omitempty"`
	// Method says how it was verified.
	Method string `json:"method,omitempty"`
	// Pinned keeps the listing from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// TokenBody is the body of TokenPut and TokenDelete (Name only).
type TokenBody struct {
	// Name identifies the token in logs and in the By field of records.
	Name string `json:"name"`
	// Hash is the hex SHA-256 of the secret; the secret is never replicated.
	Hash string `json:"hash,omitempty"`
	// Role is "admin", "postmaster" or "read".
	Role string `json:"role,omitempty"`
	// Prefixes scope a postmaster token.
	Prefixes []string `json:"prefixes,omitempty"`
}

// BatchBody is the body of Batch: all of Commands apply, or none.
type BatchBody struct {
	// Commands are applied in order; they take the batch's Time and ReqID.
	Commands []Envelope `json:"commands"`
}

// New builds an envelope around body, stamped with the lowest version
// that can carry it (MinVersion).
func New(t Type, now int64, reqID string, body any) (*Envelope, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encoding %s body: %w", t, err)
	}
	return &Envelope{V: MinVersion(t, raw), Type: t, Time: now, ReqID: reqID, Body: raw, val: body, valRaw: raw}, nil
}

// Encode returns the JSON log entry bytes of e (EncodeBinary: the binary
// form).
func (e *Envelope) Encode() ([]byte, error) {
	if err := e.jsonBody(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding %s command: %w", e.Type, err)
	}
	return b, nil
}

// ErrUnsupported means a log entry was written by a newer wlns.
var ErrUnsupported = errors.New("unsupported command version")

// ErrInvalidEnvelope means an envelope was refused before it reached the
// log: wrong version, unknown type, a body that does not decode or breaks a
// proposal-time rule, too large. It is the caller's mistake (HTTP 400), not
// an outage; the store wraps it with what was wrong.
var ErrInvalidEnvelope = errors.New("invalid command envelope")

// Decode reads a log entry, JSON or binary.
func Decode(b []byte) (*Envelope, error) {
	if len(b) > 0 && b[0] == BinaryMark {
		return decodeBinary(b)
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("decoding command: %w", err)
	}
	if e.V < 1 || e.V > Version {
		return nil, fmt.Errorf("%w: %d (this build reads up to %d)", ErrUnsupported, e.V, Version)
	}
	return &e, nil
}

// DecodeBody unmarshals the envelope's body into dst.
func (e *Envelope) DecodeBody(dst any) error {
	if v := e.typed(); v != nil {
		if k := kinds[e.Type]; k != nil && k.Binary != nil && k.Binary.Assign(dst, v) {
			return nil
		}
		if err := e.jsonBody(); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(e.Body, dst); err != nil {
		return fmt.Errorf("decoding %s body: %w", e.Type, err)
	}
	return nil
}

func init() {
	for _, k := range []Kind{
		{Type: EntityPut, Since: 1, Body: bodyOf[EntityBody](), Binary: entityBinary, Spoolable: true, Summary: summaryOf(func(b *EntityBody) string {
			return entityName(b) + " [" + strings.Join(b.Prefixes, " ") + "]"
		})},
		{Type: EntityDelete, Since: 1, Body: bodyOf[EntityBody](), Binary: entityBinary},
		{Type: MembersAdd, Since: 1, Body: bodyOf[MembersBody](), Binary: membersBinary, Spoolable: true, Summary: summaryOf(func(b *MembersBody) string {
			return fmt.Sprintf("entity %d + [%s]", b.Entity, strings.Join(b.Prefixes, " "))
		})},
		{Type: MembersRemove, Since: 1, Body: bodyOf[MembersBody](), Binary: membersBinary},
		{Type: PairPut, Since: 1, Version: pairVersion, Body: bodyOf[PairBody](), Binary: pairBinary, Spoolable: true, Summary: summaryOf(func(b *PairBody) string {
			return b.Sender + " through " + relayName(b.IP, b.Entity)
		})},
		{Type: PairDelete, Since: 1, Version: pairVersion, Body: bodyOf[PairBody](), Binary: pairBinary},
		{Type: VerpPut, Since: 1, Body: bodyOf[VerpBody](), Binary: verpBinary, Spoolable: true, Summary: summaryOf(func(b *VerpBody) string {
			return "VERP " + b.Domain + " at " + relayName(b.IP, b.Entity)
		})},
		{Type: VerpDelete, Since: 1, Body: bodyOf[VerpBody](), Binary: verpBinary},
		{Type: TokenPut, Since: 1, Version: tokenVersion, Body: bodyOf[TokenBody]()},
		{Type: TokenDelete, Since: 1, Body: bodyOf[TokenBody]()},
		{Type: Batch, Since: 1, Version: batchVersion, Body: bodyOf[BatchBody]()},
	} {
		register(k)
	}
}

// relayName names a pair's relay for a summary: its address, or its entity.
func relayName(ip string, entity uint64) string {
	if ip != "" {
		return ip
	}
	return fmt.Sprintf("entity %d", entity)
}

// entityName names an entity.put's entity for a summary.
func entityName(b *EntityBody) string {
	switch {
	case b.Group:
		return "group " + b.Name
	case b.ID != 0:
		return fmt.Sprintf("relay %d", b.ID)
	}
	return "relay"
}
