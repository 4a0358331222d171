package record

import "strings"

// IsNormalSender reports, without allocating, that NormalizeSender(s)
// returns s itself and no error, for the plain shape nearly every sender
// has: lower-case ASCII, an unquoted local part, a host-name domain. It
// may report false for other normalised senders (quoted local parts,
// address literals): a caller checking that a text is normalised falls back
// to NormalizeSender then.
func IsNormalSender(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return IsNormalDomain(s)
	}
	local := s[:at]
	if local == "" || len(local) > MaxLocalPartAccepted || local[0] == '"' || local[0] == '@' || isSpace(local[0]) {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < 0x20 || c >= 0x7f || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return IsNormalDomain(s[at+1:])
}

// IsNormalDomain reports, without allocating, that NormalizeDomain(d)
// returns d itself and no error: a host name of lower-case letters,
// digits, hyphens and underscores within DNS limits, without a trailing
// dot.
func IsNormalDomain(d string) bool {
	if d == "" || len(d) > MaxDomain {
		return false
	}
	label := 0
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_':
			if label++; label > MaxLabel {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

// isSpace reports whether c is an ASCII space strings.TrimSpace removes.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
