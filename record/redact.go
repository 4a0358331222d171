package record

import "strings"

// Redacted replaces the local part of every address-like word in s
// (anything@domain, quoted local parts and UTF-8 included) by "***", so
// that a log line keeps the domain, which operators need, and drops the
// person. Text without an @ is returned as is, without copying.
func Redacted(s string) string {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	done := 0 // s[:done] is in b
	for ; at >= 0; at = nextAt(s, at) {
		start := localStart(s, at)
		if start == at || start < done || !domainFollows(s, at) {
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString("***")
		done = at
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// nextAt returns the index of the next @ after at, or -1.
func nextAt(s string, at int) int {
	i := strings.IndexByte(s[at+1:], '@')
	if i < 0 {
		return -1
	}
	return at + 1 + i
}

// localStart returns where the local part ending before s[at] begins: a
// quoted string, or the run of atext, dots and non-ASCII bytes (at itself
// when there is none).
func localStart(s string, at int) int {
	if at > 0 && s[at-1] == '"' {
		if q := strings.LastIndexByte(s[:at-1], '"'); q >= 0 {
			return q
		}
	}
	i := at
	for i > 0 && localByte(s[i-1]) {
		i--
	}
	return i
}

// localByte reports whether c can be part of an unquoted local part
// (RFC 5322 atext, the dot, or a UTF-8 byte as SMTPUTF8 allows).
func localByte(c byte) bool {
	switch {
	case c >= 0x80, 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0
}

// domainFollows reports whether a domain (a letter, digit, UTF-8 byte or
// an address literal's bracket) follows the @ at.
func domainFollows(s string, at int) bool {
	if at+1 >= len(s) {
		return false
	}
	c := s[at+1]
	return c >= 0x80 || c == '[' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
