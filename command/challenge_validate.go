package command

import (
	"errors"
	"fmt"
	"strings"
)

// Shape limits of the challenge bodies. Store.Apply refuses a body outside
// them before it reaches the log, and the state machine rejects it as
// Invalid should one get there anyway.
const (
	// MaxChallengeID is the longest challenge ID, in bytes.
	MaxChallengeID = 64
	// MaxChallengeTTL is the longest token lifetime, in seconds (30 days):
	// the expiry sweep forgets challenges 30 days after they expire.
	MaxChallengeTTL = 30 * 24 * 3600
	// MaxSuppressFor is the longest forgery suppression, in seconds (1 year).
	MaxSuppressFor = 365 * 24 * 3600
	// maxSenderLen is RFC 5321's path limit without the angle brackets.
	maxSenderLen = 254
	// maxBy bounds By fields (token and node names).
	maxBy = 128
	// maxSendError bounds ChallengeSentBody.Error.
	maxSendError = 1024
)

// Validate checks the shape of a ChallengeOpenBody: what can be decided
// without the data (entity, listings, open challenges, limits).
func (b *ChallengeOpenBody) Validate() error {
	if err := checkChallengeID(b.ID); err != nil {
		return err
	}
	switch b.Kind {
	case "pair":
		if b.Domain != "" {
			return errors.New("challenge.open: domain is only for a verp challenge")
		}
	case "verp":
		if b.Domain == "" {
			return errors.New("challenge.open: a verp challenge needs the list domain")
		}
	default:
		return fmt.Errorf("challenge.open: kind %q is not pair or verp", b.Kind)
	}
	if b.Sender == "" || !strings.Contains(b.Sender, "@") || len(b.Sender) > maxSenderLen {
		return fmt.Errorf("challenge.open: sender must be an address of at most %d octets", maxSenderLen)
	}
	if (b.Entity == 0) == (b.IP == "") {
		return errors.New("challenge.open: give an entity or an ip, exactly one")
	}
	if err := checkTokenHash("challenge.open", b.TokenHash); err != nil {
		return err
	}
	if b.TTL <= 0 || b.TTL > MaxChallengeTTL {
		return fmt.Errorf("challenge.open: ttl %d is not between 1 and %d seconds", b.TTL, MaxChallengeTTL)
	}
	if err := b.Limits.validate(); err != nil {
		return err
	}
	if b.ReplaceUnsentAfter < 0 || b.ReplaceUnsentAfter > MaxChallengeTTL {
		return fmt.Errorf("challenge.open: replace_unsent_after %d is not between 0 and %d seconds", b.ReplaceUnsentAfter, MaxChallengeTTL)
	}
	return checkBy("challenge.open", b.By)
}

// validate checks that limits are not negative and have a window.
func (l *ChallengeLimits) validate() error {
	if l.Window < 0 || l.PerSender < 0 || l.PerDomain < 0 || l.PerEntity < 0 || l.PerDomainRelay < 0 {
		return errors.New("challenge.open: limits must not be negative")
	}
	if l.Window == 0 && (l.PerSender > 0 || l.PerDomain > 0 || l.PerEntity > 0 || l.PerDomainRelay > 0) {
		return errors.New("challenge.open: limits need a window (seconds)")
	}
	if l.Sliding && l.Window > MaxSlidingWindow {
		return fmt.Errorf("challenge.open: a sliding window is at most %d seconds", MaxSlidingWindow)
	}
	return nil
}

// Validate checks the shape of a ChallengeSentBody.
func (b *ChallengeSentBody) Validate() error {
	if err := checkChallengeID(b.ID); err != nil {
		return err
	}
	if len(b.Error) > maxSendError {
		return fmt.Errorf("challenge.sent: error longer than %d bytes", maxSendError)
	}
	return nil
}

// Validate checks the shape of a ChallengeConfirmBody.
func (b *ChallengeConfirmBody) Validate() error {
	if err := checkTokenHash("challenge.confirm", b.TokenHash); err != nil {
		return err
	}
	if !isWord(b.Method, 32) {
		return fmt.Errorf("challenge.confirm: method %q is not a word of 1 to 32 lower-case letters, digits, '-' or '_' (link, reply)", b.Method)
	}
	return checkBy("challenge.confirm", b.By)
}

// Validate checks the shape of a ChallengeReportBody.
func (b *ChallengeReportBody) Validate() error {
	if err := checkTokenHash("challenge.report", b.TokenHash); err != nil {
		return err
	}
	switch b.Report {
	case "forgery":
		if b.SuppressFor < 0 || b.SuppressFor > MaxSuppressFor {
			return fmt.Errorf("challenge.report: suppress_for %d is not between 0 and %d seconds", b.SuppressFor, MaxSuppressFor)
		}
	case "list":
		if b.SuppressFor != 0 {
			return errors.New("challenge.report: suppress_for is only for a forgery report")
		}
	default:
		return fmt.Errorf("challenge.report: report %q is not forgery or list", b.Report)
	}
	return checkBy("challenge.report", b.By)
}

// checkChallengeID accepts 1 to MaxChallengeID letters, digits, '-', '_'
// and '.': IDs appear in URLs and logs.
func checkChallengeID(id string) error {
	if id == "" || len(id) > MaxChallengeID {
		return fmt.Errorf("challenge id must be 1 to %d characters", MaxChallengeID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("challenge id %q: only letters, digits, '-', '_' and '.'", id)
		}
	}
	return nil
}

// checkTokenHash accepts the hex SHA-256 of a token, either case.
func checkTokenHash(what, h string) error {
	if len(h) != 64 {
		return fmt.Errorf("%s: token_hash must be 64 hex digits (the SHA-256 of the token)", what)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("%s: token_hash must be 64 hex digits (the SHA-256 of the token)", what)
		}
	}
	return nil
}

func checkBy(what, by string) error {
	if len(by) > maxBy {
		return fmt.Errorf("%s: by longer than %d bytes", what, maxBy)
	}
	return nil
}

// isWord reports whether s is 1 to n lower-case letters, digits, '-' or '_'.
func isWord(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Validator is a body that checks its own shape after decoding; the
// challenge bodies are. Store.Apply calls it before proposing.
type Validator interface {
	Validate() error
}
