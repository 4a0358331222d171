package command

import "encoding/json"

// Group (envelope version 5) is one log entry holding several independent
// commands that concurrent writers proposed at about the same time (group
// commit): each applies exactly as if it were its own log entry, in order —
// with its own version, Time, ReqID, de-duplication and Result — so a Group
// means the same as the entries it replaces. Only the store makes Groups;
// it refuses one proposed from outside.
const Group Type = "group"

// GroupBody is the body of Group.
type GroupBody struct {
	// Commands are the grouped entries, each a whole envelope.
	Commands []Envelope `json:"commands"`
}

// groupVersion is the highest version among a group's commands, and at
// least 5, which introduced Group.
func groupVersion(raw json.RawMessage) int {
	var b GroupBody
	if json.Unmarshal(raw, &b) != nil {
		return Version
	}
	v := 5
	for i := range b.Commands {
		v = max(v, b.Commands[i].V)
	}
	return v
}

func init() { register(Kind{Type: Group, Since: 5, Version: groupVersion, Body: bodyOf[GroupBody]()}) }
