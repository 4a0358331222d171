package verify

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// TokenBytes is the token's entropy: 160 bits.
const TokenBytes = 20

// TokenLen is the length of a token: TokenBytes in unpadded base32.
const TokenLen = (TokenBytes*8 + 4) / 5

// tokenEncoding is RFC 4648 base32 in lower case without padding: safe in
// URLs and in e-mail local parts, and case-insensitive.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// replyPrefix starts the local part of reply addresses.
const replyPrefix = "confirm-"

// newToken returns a fresh random token.
func newToken() (string, error) {
	var b [TokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a challenge token: %w", err)
	}
	return tokenEncoding.EncodeToString(b[:]), nil
}

// newID returns a fresh challenge ID (random, not secret).
func newID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a challenge ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// canonicalToken lower-cases t and reports whether it has the token form.
func canonicalToken(t string) (string, bool) {
	if len(t) != TokenLen {
		return "", false
	}
	t = strings.ToLower(t)
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	return t, true
}

// HashToken returns the hex SHA-256 under which a token is stored, or ""
// when t is not a token. Case does not matter.
func HashToken(t string) string {
	t, ok := canonicalToken(t)
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// ReplyAddress is the address a reply to the challenge for token goes to.
func (s *Service) ReplyAddress(token string) string {
	return replyPrefix + token + "@" + s.cfg.MailDomain
}

// TokenFromAddress parses a reply address confirm-TOKEN@MailDomain, in any
// case and with or without angle brackets, and returns the token in its
// canonical (lower-case) form.
func (s *Service) TokenFromAddress(addr string) (token string, ok bool) {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	local, domain, found := strings.Cut(addr, "@")
	if !found || strings.TrimSuffix(domain, ".") != s.cfg.MailDomain {
		return "", false
	}
	t, found := strings.CutPrefix(local, replyPrefix)
	if !found {
		return "", false
	}
	return canonicalToken(t)
}
