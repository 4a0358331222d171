package verify

import (
	"fmt"
	"strings"

	"github.com/wlns/wlns/record"
)

// roleLocals are local parts that belong to roles, robots and list
// software: nobody there confirms anything, and mailing them is backscatter.
var roleLocals = map[string]bool{
	"postmaster": true, "mailer-daemon": true, "abuse": true, "noreply": true,
	"no-reply": true, "do-not-reply": true, "donotreply": true, "bounce": true,
	"bounces": true, "majordomo": true, "listserv": true, "mailman": true,
	"root": true, "hostmaster": true, "nobody": true,
}

// DefaultNeverChallenge are the role local parts that are never
// challenged besides the built-in rules (Config.NeverChallenge replaces
// them): shared mailboxes and notification robots, where nobody confirms
// and a challenge is noise to whoever reads them.
var DefaultNeverChallenge = []string{"info", "admin", "administrator", "webmaster", "notifications", "notification"}

// neverSet is a NeverChallenge list as a set of lower-case local parts.
func neverSet(locals []string) map[string]bool {
	m := make(map[string]bool, len(locals))
	for _, l := range locals {
		if l = strings.ToLower(strings.TrimSpace(l)); l != "" {
			m[l] = true
		}
	}
	return m
}

// challengeable normalises sender and says why it must never be
// challenged: reason is empty when it may be. It refuses the null sender,
// addresses without a domain or at a domain that is not on the Internet
// (localhost, .invalid), role, noreply-like and bounce addresses, the
// local parts in never, and addresses that look like per-message return
// paths (VERP, BATV, SRS). addr is the normalised address whenever the
// sender is one.
func challengeable(sender string, never map[string]bool) (addr, reason string) {
	if strings.TrimSpace(strings.Trim(sender, "<>")) == "" {
		return "", "the null sender is never challenged"
	}
	addr, err := record.NormalizeSender(strings.Trim(strings.TrimSpace(sender), "<>"))
	if err != nil {
		return "", fmt.Sprintf("not an e-mail address: %v", err)
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, "not an address: a domain has nobody to confirm"
	}
	local, domain := addr[:at], addr[at+1:]
	if localDomain(domain) {
		return addr, fmt.Sprintf("%s is not a domain on the Internet", domain)
	}
	if r := roleReason(local, never); r != "" {
		return addr, r
	}
	if r := returnPathReason(local); r != "" {
		return addr, r
	}
	return addr, ""
}

// localDomain reports whether domain names no host on the Internet:
// localhost (RFC 6761) and the .invalid names.
func localDomain(domain string) bool {
	return domain == "localhost" || domain == "localhost.localdomain" ||
		strings.HasSuffix(domain, ".localhost") || domain == "invalid" || strings.HasSuffix(domain, ".invalid")
}

// roleReason refuses role, noreply-like, list-software and bounce local
// parts, and those in never.
func roleReason(local string, never map[string]bool) string {
	base := local
	if i := strings.IndexAny(base, "+"); i > 0 {
		base = base[:i]
	}
	switch {
	case roleLocals[base]:
		return fmt.Sprintf("%q is a role or robot address", local)
	case never[base]:
		return fmt.Sprintf("%q is a role address (never challenged on this node)", local)
	case noReplyLike(base):
		return fmt.Sprintf("%q is a no-reply address", local)
	case strings.HasPrefix(base, "owner-"), strings.HasSuffix(base, "-request"), strings.HasSuffix(base, "-owner"):
		return fmt.Sprintf("%q is a mailing-list address", local)
	case strings.HasPrefix(base, "bounce-"), strings.HasPrefix(base, "bounces-"), strings.HasPrefix(base, "bounces+"):
		return fmt.Sprintf("%q is a bounce address", local)
	}
	return ""
}

// noReplyLike reports whether local says nobody reads it: "noreply" or
// "donotreply" once separators are dropped (no-reply, no_reply,
// noreply-billing, billing.noreply, do-not-reply).
func noReplyLike(local string) bool {
	squashed := strings.NewReplacer("-", "", "_", "", ".", "").Replace(local)
	return strings.Contains(squashed, "noreply") || strings.Contains(squashed, "donotreply")
}

// returnPathReason refuses local parts that carry per-message or
// per-recipient tags: BATV (prvs=, btv1==), SRS (srs0=, srs1=), VERP
// (an "=" followed by something domain-like, as in list-bounce+bob=example.com)
// and long hex or digit runs after a "+" or "-" separator.
func returnPathReason(local string) string {
	switch {
	case strings.HasPrefix(local, "prvs="), strings.HasPrefix(local, "msprvs1="), strings.HasPrefix(local, "btv1=="):
		return fmt.Sprintf("%q is a BATV-signed return path", local)
	case strings.HasPrefix(local, "srs0="), strings.HasPrefix(local, "srs1="):
		return fmt.Sprintf("%q is an SRS-rewritten return path", local)
	}
	if i := strings.LastIndexByte(local, '='); i >= 0 && domainLike(local[i+1:]) {
		return fmt.Sprintf("%q looks like a VERP return path", local)
	}
	if taggedRun(local) {
		return fmt.Sprintf("%q carries a per-message tag", local)
	}
	return ""
}

// domainLike reports whether s looks like a domain: two or more labels.
func domainLike(s string) bool {
	d, err := record.NormalizeDomain(s)
	return err == nil && strings.Contains(d, ".")
}

// taggedRun reports whether a part after "+", "-", "." or "_" is a run of
// at least 8 hex digits holding a digit, or 6 decimal digits: the
// per-message tag of a VERP or tracking return path.
func taggedRun(local string) bool {
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '+' || r == '-' || r == '.' || r == '_' })
	for i, p := range parts {
		if i == 0 {
			continue
		}
		if isRun(p, 6, isDigit) || (isRun(p, 8, isHex) && strings.IndexFunc(p, isDigit) >= 0) {
			return true
		}
	}
	return false
}

func isRun(s string, minLen int, ok func(rune) bool) bool {
	if len(s) < minLen {
		return false
	}
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
func isHex(r rune) bool   { return isDigit(r) || r >= 'a' && r <= 'f' }
