package command

import (
	"encoding/json"
	"strings"
)

// MinVersion is the lowest envelope version that can carry a command of
// type t with body raw: the version that introduced the type (1 for the
// record and token commands, 2 for Touch and Expire, 3 for the challenge
// commands), raised to 3 for a TokenPut of role "mta" (an older replica
// would reject that role: a different outcome, so it must stop instead)
// and to 4 for a ChallengeOpen with per-domain-per-relay or sliding limits
// (a version-3 replica would ignore them and count differently), 5 for
// Import, the zone record and the delegation commands, 6 for
// SuggestionDismiss, 8 (QuotedSenderVersion) for a PairPut, PairDelete
// or ChallengeOpen whose sender holds a double quote, for a
// Group 5 or the highest of its commands, and for a Batch the highest of
// its commands. An unknown type, or a body
// that does not decode, gets Version. See Version for why it matters.
func MinVersion(t Type, raw json.RawMessage) int {
	k, ok := kinds[t]
	switch {
	case !ok:
		return Version
	case k.Version != nil:
		return k.Version(raw)
	}
	return k.Since
}

// tokenVersion is a TokenPut's version: 3 for role "mta" (or a body that
// does not decode), else 1.
func tokenVersion(raw json.RawMessage) int {
	var b TokenBody
	if json.Unmarshal(raw, &b) != nil || b.Role == roleMTA {
		return 3
	}
	return 1
}

// openVersion is a ChallengeOpen's version: 4 with per-domain-per-relay or
// sliding limits (or a body that does not decode), else 3; at least
// QuotedSenderVersion for a sender with a double quote.
func openVersion(raw json.RawMessage) int {
	var b ChallengeOpenBody
	switch {
	case json.Unmarshal(raw, &b) != nil:
		return Version
	case quotedSender(b.Sender):
		return QuotedSenderVersion
	case b.Limits.newSemantics():
		return 4
	}
	return 3
}

// QuotedSenderVersion (8) is the envelope version whose state machine
// normalises senders with record.NormalizeSender, which keeps the quotes
// of a local part that would read as something else without them (" a"@x,
// "\"a\""@x): versions 1 to 7 applied record.NormalizeSenderV6, which
// unquoted them (" a"@x became the sender " a@x", which normalised
// again is a@x: not a fixed point). The state machine applies an entry of
// an older version with the V6 normalisation, so that the entries older
// builds wrote replay as they first applied; and a sender whose two
// normalisations could differ — only a text with a double quote — needs
// this version, so that an older replica stops at it instead of storing
// another sender.
const QuotedSenderVersion = 8

// quotedSender reports whether a sender's two normalisations (see
// QuotedSenderVersion) could differ: it holds a double quote.
func quotedSender(s string) bool { return strings.IndexByte(s, '"') >= 0 }

// pairVersion is a PairPut's or PairDelete's version: QuotedSenderVersion
// for a sender with a double quote (or a body that does not decode), else 1.
func pairVersion(raw json.RawMessage) int {
	var b PairBody
	if json.Unmarshal(raw, &b) != nil || quotedSender(b.Sender) {
		return QuotedSenderVersion
	}
	return 1
}

// roleMTA is record.RoleMTA, the token role version 3 added (command does
// not import record).
const roleMTA = "mta"

// batchVersion is the highest version among a batch's commands: each
// command's own V and what its type and body need (1 for an empty batch).
func batchVersion(raw json.RawMessage) int {
	var b BatchBody
	if json.Unmarshal(raw, &b) != nil {
		return Version
	}
	v := 1
	for i := range b.Commands {
		c := &b.Commands[i]
		v = max(v, c.V, MinVersion(c.Type, c.Body))
	}
	return v
}
