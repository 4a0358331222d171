package record

import "strings"

// Mailbox writes a normalised address as SMTP (RCPT TO) and a To: header
// take it: the local part as is when it is a Dot-string (atext, UTF-8 as in
// RFC 6531, single dots inside), otherwise as an RFC 5321 Quoted-string
// (john doe@x is "john doe"@x, a..b@x is "a..b"@x). Relays take every
// quoted local part; the canonical form keeps none of the quotes, but for
// a local part that unquoted would read as another (" a"@x), which it
// keeps quoted and Mailbox writes as it is.
func Mailbox(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || dotString(addr[:at]) || isQuoted(addr[:at]) {
		return addr
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < at; i++ {
		if c := addr[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(addr[i])
	}
	b.WriteByte('"')
	b.WriteString(addr[at:])
	return b.String()
}

// dotString reports whether local is an RFC 5321 Dot-string: atoms of
// atext (or UTF-8) joined by single dots.
func dotString(local string) bool {
	if local == "" || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < 0x80 && c != '.' && !atext(c) {
			return false
		}
	}
	return true
}

// atext is RFC 5322's atext for ASCII.
func atext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
