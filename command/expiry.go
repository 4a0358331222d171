package command

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The expiry commands (envelope version 2).
const (
	// Touch raises the replicated last-queried time of records a node
	// answered queries for.
	Touch Type = "touch"
	// Expire deletes every unpinned record whose last query (or creation,
	// when never queried) is older than its kind's cutoff.
	Expire Type = "expire"
)

// TouchBody is the body of Touch: records grouped by entity. Times are ages
// in seconds before the envelope's Time (small numbers, so the entry stays
// compact); the state machine sets LastQueried to max(LastQueried,
// Time-age). Records that no longer exist are skipped.
type TouchBody struct {
	// Entities lists the touched records, one element per entity.
	Entities []TouchEntity `json:"e"`
}

// TouchEntity is the touched records of one entity.
type TouchEntity struct {
	// ID is the entity.
	ID uint64 `json:"i"`
	// Self is true when the entity itself answered (a relay-zone answer),
	// Age seconds before the envelope's Time.
	Self bool `json:"s,omitempty"`
	// Age is when the entity itself was seen; only meaningful with Self.
	Age int64 `json:"a,omitempty"`
	// Pairs are the touched pairs: sender (or domain) and age.
	Pairs []TouchItem `json:"p,omitempty"`
	// Verps are the touched VERP sources: domain and age.
	Verps []TouchItem `json:"v,omitempty"`
}

// TouchItem names one record of an entity and how long before the
// envelope's Time it was last seen. It is encoded as a two-element JSON
// array, ["dave@umkc.edu",42], to keep touch entries small.
type TouchItem struct {
	// Key is the pair's sender or the VERP source's domain.
	Key string
	// Age is seconds before the envelope's Time; never negative.
	Age int64
}

// ExpireBody is the body of Expire. Each cutoff is a Unix time chosen by
// the leader's clock; zero means the kind does not expire. A record of a
// kind is deleted when it is not pinned and max(LastQueried, Created) <
// cutoff. Entities (groups, registered relays, and unregistered lone
// entities such as those a pair write creates for an unknown address) are
// deleted only when no pair or VERP source of theirs is left after this
// command, so a group with live pairs never goes.
type ExpireBody struct {
	// Pairs is the cutoff for address pairs.
	Pairs int64 `json:"pairs,omitempty"`
	// DomainPairs is the cutoff for domain-wide pairs.
	DomainPairs int64 `json:"domain_pairs,omitempty"`
	// Verps is the cutoff for VERP sources.
	Verps int64 `json:"verps,omitempty"`
	// Relays is the cutoff for registered lone relays.
	Relays int64 `json:"relays,omitempty"`
	// Groups is the cutoff for relay groups.
	Groups int64 `json:"groups,omitempty"`
	// Orphans is the cutoff for unregistered lone entities left without
	// pairs and VERP sources.
	Orphans int64 `json:"orphans,omitempty"`
	// Challenges is the cutoff for verification state (version 3):
	// challenges that expired (and, if closed, were closed) before it and
	// forgery suppressions that ended before it are deleted, and so are
	// rate-limit windows that ended by the envelope's Time. Zero keeps all
	// of it. Pinning does not apply.
	Challenges int64 `json:"challenges,omitempty"`
}

// MarshalJSON encodes the item as ["key",age].
func (t TouchItem) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{t.Key, t.Age})
}

// UnmarshalJSON decodes ["key",age].
func (t *TouchItem) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("touch item: want [\"key\",age]: %w", err)
	}
	if raw[0] == nil || raw[1] == nil {
		return errors.New("touch item: want [\"key\",age]")
	}
	if err := json.Unmarshal(raw[0], &t.Key); err != nil {
		return fmt.Errorf("touch item key: %w", err)
	}
	if err := json.Unmarshal(raw[1], &t.Age); err != nil {
		return fmt.Errorf("touch item age: %w", err)
	}
	return nil
}

func init() {
	register(Kind{Type: Touch, Since: 2, Body: bodyOf[TouchBody](), Binary: touchBinary})
	register(Kind{Type: Expire, Since: 2, Body: bodyOf[ExpireBody]()})
}
