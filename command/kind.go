package command

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Kind is what the packages around the state machine know about one
// command type, registered once, beside the type's body (register in an
// init function of the file that declares the Type). The state machine
// registers its own part of each kind (how it applies) in its package; a
// test there checks every Kind has one.
type Kind struct {
	// Type names the kind.
	Type Type
	// Since is the envelope version that introduced the type.
	Since int
	// Version, when set, is the version a particular body needs (at least
	// Since): a body an older replica would apply differently needs a
	// newer one. See MinVersion.
	Version func(raw json.RawMessage) int
	// Body returns a new, empty body of the type's shape, a pointer to
	// decode into; bodies that are Validators check their own fields.
	Body func() any
	// Spoolable marks a registration or confirmation a node may keep in
	// its write spool when no quorum is reachable (see Spoolable).
	Spoolable bool
	// Binary, when set, is the body's binary form (binary.go): entries of
	// the kind may be written as binary entries.
	Binary *BinaryBody
	// Summary describes a command of the kind in one line (the spool
	// listing); nil or an empty answer: the type's name.
	Summary func(e *Envelope) string
}

// kinds is every registered Kind by type; filled by register in init
// functions and only read afterwards.
var kinds = map[Type]*Kind{}

// register adds k to the kinds; a type registered twice is a programming
// error.
func register(k Kind) {
	if _, dup := kinds[k.Type]; dup || k.Since < 1 || k.Since > Version {
		panic(fmt.Sprintf("command: kind %q registered twice or with version %d", k.Type, k.Since))
	}
	kinds[k.Type] = &k
}

// KindOf returns the registered kind of type t.
func KindOf(t Type) (*Kind, bool) {
	k, ok := kinds[t]
	return k, ok
}

// Types returns every registered type, sorted.
func Types() []Type {
	out := make([]Type, 0, len(kinds))
	for t := range kinds {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// bodyOf is a Kind.Body for body type T.
func bodyOf[T any]() func() any { return func() any { return new(T) } }

// summaryOf is a Kind.Summary that decodes the body as a T and describes
// it with f ("" when the body does not decode).
func summaryOf[T any](f func(*T) string) func(e *Envelope) string {
	return func(e *Envelope) string {
		var b T
		if e.DecodeBody(&b) != nil {
			return ""
		}
		return f(&b)
	}
}

// Summary describes e in one line: its kind's Summary, else its type.
func Summary(e *Envelope) string {
	if k, ok := kinds[e.Type]; ok && k.Summary != nil {
		if s := k.Summary(e); s != "" {
			return s
		}
	}
	return string(e.Type)
}

// Spoolable reports whether e may be spooled when no quorum is reachable:
// registrations and confirmations (Kind.Spoolable), whose replay is
// harmless (a refresh, or refused as a duplicate). Deletes, tokens, touch
// and expire are not: they are answered 503 instead. A Batch is spoolable
// when each of its commands is, or is the challenge.open of a list report.
func Spoolable(e *Envelope) bool {
	if e.Type == Batch {
		return batchSpoolable(e)
	}
	k, ok := kinds[e.Type]
	return ok && k.Spoolable
}

// batchSpoolable is Spoolable for a Batch.
func batchSpoolable(e *Envelope) bool {
	var b BatchBody
	if e.DecodeBody(&b) != nil || len(b.Commands) == 0 {
		return false
	}
	report := false
	for i := range b.Commands {
		report = report || b.Commands[i].Type == ChallengeReport
	}
	for i := range b.Commands {
		c := &b.Commands[i]
		if !(c.Type != Batch && Spoolable(c) || report && c.Type == ChallengeOpen) {
			return false
		}
	}
	return true
}
