package record

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Validation errors. Callers wrap them with the offending value.
var (
	// ErrBadSender means a sender is neither an RFC 5321 address nor a domain.
	ErrBadSender = errors.New("invalid sender")
	// ErrBadDomain means a string is not a usable DNS domain name.
	ErrBadDomain = errors.New("invalid domain")
	// ErrBadPrefix means a string is neither an IP address nor a CIDR prefix.
	ErrBadPrefix = errors.New("invalid IP address or prefix")
)

// Limits from RFC 5321 §4.5.3.1 and RFC 1035 §2.3.4.
const (
	// MaxLocalPart is RFC 5321's limit. Real MTAs accept longer local
	// parts, and so does NormalizeSender, up to MaxLocalPartAccepted.
	MaxLocalPart = 64
	// MaxLocalPartAccepted is the longest local part NormalizeSender takes:
	// RFC 5321's whole path limit (256 octets). Only the hashed query
	// forms carry a local part over 63 octets.
	MaxLocalPartAccepted = 256
	MaxDomain            = 253
	MaxLabel             = 63
)

// NormalizeSender lower-cases and checks a sender: "local@domain" for an
// address, "domain" or "@domain" for a domain-wide entry (returned without the
// "@"). It returns the canonical form every part of wlns keys and hashes:
//
//   - The local part is unquoted, as Postfix's internal form and its policy
//     requests carry it: "john doe"@x and john doe@x are one address (RFC
//     5321 §4.1.2), and a quoted pair's backslash escapes are resolved. It
//     may hold any printable ASCII and UTF-8 (RFC 6531, SMTPUTF8), empty
//     dot-separated parts (a..b, .x, x., which real MTAs accept), and up to
//     MaxLocalPartAccepted octets; control characters are refused.
//   - Two unquoted local parts would read as something else when
//     normalised again, and keep their quotes, in the least quoting that
//     holds them (" a"@x, "\"a\""@x): one that begins with white space
//     (unquoted, it reads as padding, trimmed) and one that is itself
//     enclosed in double quotes (unquoted, it reads as the quoted form of
//     another local part). So NormalizeSender is a fixed point:
//     NormalizeSender of its result is that result. Postfix passes such
//     an address unquoted (policy sender= a@x); NormalizeUnquotedSender
//     takes that form.
//   - An internationalised domain becomes its A-labels (IDNA, UTS #46
//     lookup: bücher.example is xn--bcher-kva.example).
//   - An address literal is kept in brackets, the address in its canonical
//     text ([192.0.2.1], [ipv6:2001:db8::1]); only the hashed query forms
//     can carry it, and a domain-wide entry cannot be one.
func NormalizeSender(s string) (string, error) {
	if IsNormalSender(s) {
		return s, nil // the common case, without allocating
	}
	return normalizeSender(s, quotedLocal)
}

// NormalizeSenderV6 is NormalizeSender as command versions 1 to 6 applied
// it: it unquotes every quoted local part, so " a"@x became " a@x" (and
// that, normalised again, a@x). The state machine applies the entries
// those versions wrote with it, so that they replay exactly as they first
// applied (command.QuotedSenderVersion); nothing else should call it.
func NormalizeSenderV6(s string) (string, error) {
	if IsNormalSender(s) {
		return s, nil
	}
	return normalizeSender(s, quotedLocalV6)
}

// NormalizeUnquotedSender normalises an address given in the unquoted
// form an MTA passes internally — Postfix's policy requests, where
// MAIL FROM:<" a"@x> arrives as sender= a@x — into NormalizeSender's
// form: nothing of its local part is trimmed or unquoted, since none of it
// is quoting or padding.
func NormalizeUnquotedSender(s string) (string, error) {
	if IsNormalSender(s) {
		return s, nil
	}
	return normalizeSender(s, unquotedLocal)
}

// localForm is how normalizeSender reads a local part.
type localForm int

const (
	// quotedLocal: as written in MAIL FROM, quotes are quoting.
	quotedLocal localForm = iota
	// quotedLocalV6: so, and the result unquoted whatever it reads as.
	quotedLocalV6
	// unquotedLocal: as an MTA passes it internally, every byte its own.
	unquotedLocal
)

// normalizeSender is NormalizeSender past its fast path, reading the local
// part in the given form.
func normalizeSender(s string, form localForm) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w %q: not valid UTF-8", ErrBadSender, s)
	}
	if form == unquotedLocal {
		s = strings.ToLower(strings.TrimRightFunc(s, unicode.IsSpace))
	} else {
		s = strings.ToLower(strings.TrimSpace(s))
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 || at == 0 {
		d, err := NormalizeDomain(strings.TrimPrefix(s, "@"))
		if err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrBadSender, s, err)
		}
		return d, nil
	}
	local, err := normalizeLocal(s[:at], form)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBadSender, s, err)
	}
	d, err := normalizeAddressDomain(s[at+1:])
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBadSender, s, err)
	}
	return local + "@" + d, nil
}

// normalizeLocal unquotes a quoted local part (unless form says it is
// unquoted already) and checks the result; one that would not read back
// as itself bare is quoted (needsQuotes), except in quotedLocalV6.
func normalizeLocal(local string, form localForm) (string, error) {
	if form != unquotedLocal && isQuoted(local) {
		local = unquote(local[1 : len(local)-1])
	}
	if err := checkLocal(local); err != nil {
		return "", err
	}
	if form != quotedLocalV6 && needsQuotes(local) {
		return quote(local), nil
	}
	return local, nil
}

// isQuoted reports whether a local part is enclosed in double quotes.
func isQuoted(local string) bool {
	return len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
}

// needsQuotes reports whether an unquoted local part, written bare, would
// normalise to something else: it begins with white space (trimmed as
// padding) or is enclosed in double quotes (unquoted once more).
func needsQuotes(local string) bool {
	r, _ := utf8.DecodeRuneInString(local)
	return unicode.IsSpace(r) || isQuoted(local)
}

// quote writes an unquoted local part as an RFC 5321 Quoted-string,
// escaping only the double quotes and backslashes unquote resolves.
func quote(local string) string {
	var b strings.Builder
	b.Grow(len(local) + 4)
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if c := local[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String()
}

// checkLocal refuses an unquoted local part that is empty, too long or
// holds a control character.
func checkLocal(local string) error {
	switch {
	case local == "":
		return errors.New("empty local part")
	case len(local) > MaxLocalPartAccepted:
		return fmt.Errorf("local part of %d octets: longer than any mail path (%d)", len(local), MaxLocalPartAccepted)
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("local part has control character 0x%02x", c)
		}
	}
	return nil
}

// unquote resolves the backslash escapes of a quoted string's content.
func unquote(q string) string {
	if !strings.Contains(q, `\`) {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] == '\\' && i+1 < len(q) {
			i++
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// normalizeAddressDomain is NormalizeDomain, or an address literal.
func normalizeAddressDomain(d string) (string, error) {
	if !strings.HasPrefix(d, "[") {
		return NormalizeDomain(d)
	}
	lit, ok := strings.CutSuffix(d[1:], "]")
	v6, isV6 := strings.CutPrefix(lit, "ipv6:")
	if isV6 {
		lit = v6
	}
	ip, err := netip.ParseAddr(lit)
	if !ok || err != nil || ip.Zone() != "" || ip.Is4() == isV6 || ip.Is4In6() {
		return "", fmt.Errorf("%w %q: an address literal is [IPv4] or [IPv6:address]", ErrBadDomain, d)
	}
	if isV6 {
		return "[ipv6:" + ip.String() + "]", nil
	}
	return "[" + ip.String() + "]", nil
}

// IsAddressLiteral reports whether the domain of a normalised address is an
// address literal ([192.0.2.1]).
func IsAddressLiteral(domain string) bool { return strings.HasPrefix(domain, "[") }

// NormalizeDomain lower-cases a domain, drops one trailing dot, turns an
// internationalised name into A-labels and checks it is a host name of
// letters, digits, hyphens and underscores within DNS limits.
func NormalizeDomain(d string) (string, error) {
	if IsNormalDomain(d) {
		return d, nil // the common case, without allocating
	}
	return normalizeDomain(d)
}

func normalizeDomain(d string) (string, error) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if d == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDomain)
	}
	if !isASCII(d) {
		a, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return "", fmt.Errorf("%w %q: not an internationalised domain name: %w", ErrBadDomain, d, err)
		}
		d = a
	}
	if len(d) > MaxDomain {
		return "", fmt.Errorf("%w: longer than %d octets", ErrBadDomain, MaxDomain)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > MaxLabel {
			return "", fmt.Errorf("%w %q: empty label or label over %d octets", ErrBadDomain, d, MaxLabel)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%w %q: character %q (%U)", ErrBadDomain, d, c, c)
			}
		}
	}
	return d, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ParsePrefix reads "192.0.2.4", "2001:db8::1", "192.0.2.0/24" or
// "2001:db8::/32" and returns the masked prefix; a bare address is a /32 or
// /128. IPv4-mapped IPv6 addresses become IPv4.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%w %q: %w", ErrBadPrefix, s, err)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w %q: %w", ErrBadPrefix, s, err)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%w %q: has a zone", ErrBadPrefix, s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// hashEncoding is RFC 4648 base32, lower case, without padding: the encoding
// Spamhaus HBL and SpamAssassin's HashBL use for hashed addresses.
var hashEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// HashLabelLen is the length of a hashed-address label.
const HashLabelLen = 52

// SenderHash returns the SHA-256 of the lower-cased address.
func SenderHash(addr string) [32]byte {
	return sha256.Sum256([]byte(strings.ToLower(addr)))
}

// HashLabel returns the one-label hashed form of an address: unpadded,
// lower-case base32 of its SHA-256.
func HashLabel(addr string) string {
	h := SenderHash(addr)
	return hashEncoding.EncodeToString(h[:])
}

// DecodeHashLabel decodes a hashed-address label (unpadded RFC 4648 base32
// of a SHA-256, either case) into dst and reports whether label is one. The
// four bits past the 256th must be zero, so each hash has exactly one label.
// It allocates nothing: the DNS query path calls it.
func DecodeHashLabel(label []byte, dst *[32]byte) bool {
	if len(label) != HashLabelLen {
		return false
	}
	var acc uint64
	bits, o := 0, 0
	for _, c := range label {
		var v byte
		switch {
		case c >= 'a' && c <= 'z':
			v = c - 'a'
		case c >= 'A' && c <= 'Z':
			v = c - 'A'
		case c >= '2' && c <= '7':
			v = c - '2' + 26
		default:
			return false
		}
		acc = acc<<5 | uint64(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			if o == len(dst) {
				return false
			}
			dst[o] = byte(acc >> bits)
			o++
		}
	}
	return o == len(dst) && acc&(1<<bits-1) == 0
}
