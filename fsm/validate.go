package fsm

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wlns/wlns/command"
)

// Proposal limits Store.Apply enforces before anything reaches the log.
const (
	maxReqID = 128
	// MaxEntry is the largest log entry the store proposes, in bytes.
	MaxEntry = 8 << 20
)

// CheckProposal refuses envelopes that must never enter the log: a wrong
// version, an unknown type, a body that does not decode or breaks its
// kind's rules. The FSM would reject most of them deterministically, but a
// log entry it cannot decode stops every replica, so the store stops them
// before proposing. (The store adds the rules that need packages the state
// machine does not import: a zone record's RDATA.)
func CheckProposal(e *command.Envelope) error {
	if e == nil {
		return errors.New("nil envelope")
	}
	if e.V < 1 || e.V > command.Version {
		return fmt.Errorf("envelope version %d (this build writes %d)", e.V, command.Version)
	}
	if e.Time <= 0 {
		return errors.New("envelope time is not set")
	}
	if len(e.ReqID) > maxReqID {
		return fmt.Errorf("request ID longer than %d bytes", maxReqID)
	}
	return checkBody(e, true)
}

// checkBody checks e's body as its kind says (kind.check), or decodes it
// as its type's shape and runs the kind's rule and the body's Validate
// (command.Validator); a type either registry lacks is refused.
func checkBody(e *command.Envelope, top bool) error {
	k := kinds[e.Type]
	if _, ok := command.KindOf(e.Type); !ok || k == nil {
		return fmt.Errorf("unknown command type %q", e.Type)
	}
	if k.check != nil {
		return k.check(e, top)
	}
	return checkDecoded(e, k.rule)
}

// checkDecoded decodes e's body as its type's shape, then runs rule (when
// set) and the body's Validate.
func checkDecoded(e *command.Envelope, rule func(any) error) error {
	ck, _ := command.KindOf(e.Type)
	body := ck.Body()
	if err := e.DecodeBody(body); err != nil {
		return err
	}
	if rule != nil {
		if err := rule(body); err != nil {
			return err
		}
	}
	if v, ok := body.(command.Validator); ok {
		return v.Validate()
	}
	return nil
}

// checkBatch checks a Batch's commands (one level: batches do not nest).
func checkBatch(e *command.Envelope, top bool) error {
	if !top {
		return errors.New("a batch cannot contain a batch")
	}
	var b command.BatchBody
	if err := e.DecodeBody(&b); err != nil {
		return err
	}
	for i := range b.Commands {
		if err := checkBody(&b.Commands[i], false); err != nil {
			return fmt.Errorf("batch command %d: %w", i, err)
		}
	}
	return nil
}

// Text limits of an entity.put: names and contacts are shown in the API,
// the console, WHOIS and the TXT answers.
const (
	maxEntityName    = 128
	maxEntityContact = 320
)

// checkEntityText refuses an entity.put whose name or contact is not
// printable UTF-8 (control characters, CR/LF, invalid bytes) or is too long.
//
// This check runs only here, before the log, and never in the state
// machine's apply path: entity.put entries already in the log, and older
// nodes in a mixed-version cluster, apply names without it, so a rule added
// to apply would give a different outcome for the same entry on different
// nodes (or on replay) and the replicas would diverge. A rule before the
// log changes only what new entries may say.
func checkEntityText(b *command.EntityBody) error {
	if err := checkPrintable("name", b.Name, maxEntityName); err != nil {
		return err
	}
	return checkPrintable("contact", b.Contact, maxEntityContact)
}

// checkPrintable refuses s unless it is valid UTF-8 of at most max bytes
// whose every character is printable (a letter, mark, number, punctuation,
// symbol or the ASCII space). JSON decoding turns invalid bytes into
// U+FFFD, so that is refused as invalid UTF-8 too.
func checkPrintable(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("entity %s is %d bytes; at most %d", what, len(s), max)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return fmt.Errorf("entity %s %q is not valid UTF-8", what, s)
	}
	for i, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("entity %s %q has a non-printable character %U at byte %d", what, s, r, i)
		}
	}
	return nil
}
