package raftstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zonerec"
)

// Proposal limits Store.Apply enforces before anything reaches the log.
const (
	maxReqID = 128
	maxEntry = 8 << 20
)

// checkProposal refuses envelopes that must never enter the log: a wrong
// version, an unknown type, a body that does not decode. The FSM would
// reject most of them deterministically, but a log entry it cannot decode
// stops every replica, so they are stopped here.
func checkProposal(e *command.Envelope) error {
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

// checkBody decodes e's body as its type's shape and, for bodies that are
// command.Validators (the challenge commands), checks their fields; a
// Batch's commands are checked too (one level: batches do not nest).
func checkBody(e *command.Envelope, top bool) error {
	var dst any
	switch e.Type {
	case command.EntityPut, command.EntityDelete:
		dst = &command.EntityBody{}
	case command.MembersAdd, command.MembersRemove:
		dst = &command.MembersBody{}
	case command.PairPut, command.PairDelete:
		dst = &command.PairBody{}
	case command.VerpPut, command.VerpDelete:
		dst = &command.VerpBody{}
	case command.TokenPut, command.TokenDelete:
		dst = &command.TokenBody{}
	case command.Touch:
		dst = &command.TouchBody{}
	case command.DelegationPut, command.DelegationDelete:
		dst = &command.DelegationBody{}
	case command.ChallengeOpen:
		dst = &command.ChallengeOpenBody{}
	case command.ChallengeSent:
		dst = &command.ChallengeSentBody{}
	case command.ChallengeConfirm:
		dst = &command.ChallengeConfirmBody{}
	case command.ChallengeReport:
		dst = &command.ChallengeReportBody{}
	case command.ZoneRecordPut, command.ZoneRecordDelete:
		dst = &command.ZoneRecordBody{}
	case command.Expire:
		if !top {
			return errors.New("an expire command cannot be part of a batch")
		}
		dst = &command.ExpireBody{}
	case command.Import:
		return checkImport(e)
	case command.Group:
		return errors.New("group entries are made by the store, not proposed")
	case command.Batch:
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
	default:
		return fmt.Errorf("unknown command type %q", e.Type)
	}
	if err := e.DecodeBody(dst); err != nil {
		return err
	}
	if b, ok := dst.(*command.EntityBody); ok && e.Type == command.EntityPut {
		return checkEntityText(b)
	}
	if b, ok := dst.(*command.ZoneRecordBody); ok && e.Type == command.ZoneRecordPut {
		return zonerec.Check(&record.ZoneRecord{Name: b.Name, Type: b.Type, TTL: b.TTL, Data: b.Data})
	}
	if v, ok := dst.(command.Validator); ok {
		return v.Validate()
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
