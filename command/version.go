package command

import "encoding/json"

// MinVersion is the lowest envelope version that can carry a command of
// type t with body raw: the version that introduced the type (1 for the
// record and token commands, 2 for Touch and Expire, 3 for the challenge
// commands), raised to 3 for a TokenPut of role "mta" (an older replica
// would reject that role: a different outcome, so it must stop instead)
// and to 4 for a ChallengeOpen with per-domain-per-relay or sliding limits
// (a version-3 replica would ignore them and count differently), 5 for
// Import, the zone record and the delegation commands, 6 for
// SuggestionDismiss, for a Group 5 or
// the highest of its commands, and for a Batch the highest of its commands. An unknown type, or a body
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
// sliding limits (or a body that does not decode), else 3.
func openVersion(raw json.RawMessage) int {
	var b ChallengeOpenBody
	if json.Unmarshal(raw, &b) != nil || b.Limits.newSemantics() {
		return 4
	}
	return 3
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
