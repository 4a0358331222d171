package command

import (
	"encoding/json"
	"strconv"

	"github.com/wlns/wlns/command/wire"
)

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

func init() {
	register(Kind{Type: Group, Since: 5, Version: groupVersion, Body: bodyOf[GroupBody](), Binary: groupBinary})
}

// EncodeGroup returns the log entry of a Group of cmds at time now, where
// raw[i] is cmds[i].Encode(). It splices the encoded commands instead of
// encoding them again: json.Marshal of a GroupBody re-validated every
// command's body, and the version rule decoded the whole group once more.
// The bytes are the ones New and Encode would give. When any of raw is a
// binary entry (EncodeBinary), the Group is binary too (binary.go), its
// commands kept in the form each came in.
func EncodeGroup(now int64, cmds []*Envelope, raw [][]byte) []byte {
	for _, r := range raw {
		if len(r) > 0 && r[0] == BinaryMark {
			return encodeBinaryGroup(now, cmds, raw)
		}
	}
	v, n := 5, 64
	for i, e := range cmds {
		v = max(v, e.V)
		n += len(raw[i]) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(v), 10)
	b = append(b, `,"type":"`+string(Group)+`","time":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, `,"body":{"commands":[`...)
	for i, r := range raw {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, "]}}"...)
}

// encodeBinaryGroup is EncodeGroup's binary form.
func encodeBinaryGroup(now int64, cmds []*Envelope, raw [][]byte) []byte {
	v, n := BinaryVersion, 32
	for i, e := range cmds {
		v = max(v, e.V)
		n += len(raw[i]) + 3
	}
	w := wire.Writer{B: make([]byte, 0, n)}
	appendHeader(&w, v, Group, now, "")
	w.Uvarint(uint64(len(raw)))
	for _, r := range raw {
		w.Bytes(r)
	}
	return w.B
}
