package record

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
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
	MaxLocalPart = 64
	MaxDomain    = 253
	MaxLabel     = 63
)

// NormalizeSender lower-cases and checks a sender: "local@domain" for an
// address, "domain" or "@domain" for a domain-wide entry (returned without the
// "@"). The local part may hold any printable ASCII but '@' and space unless
// quoted; it keeps its dots. UTF-8 local parts (RFC 6531, SMTPUTF8) are
// accepted; an internationalised domain must be given in its ASCII (A-label)
// form.
func NormalizeSender(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w %q: not valid UTF-8", ErrBadSender, s)
	}
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at < 0 || at == 0 {
		d, err := NormalizeDomain(strings.TrimPrefix(s, "@"))
		if err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrBadSender, s, err)
		}
		return d, nil
	}
	local, domain := s[:at], s[at+1:]
	if err := checkLocal(local); err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBadSender, s, err)
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBadSender, s, err)
	}
	return local + "@" + d, nil
}

func checkLocal(local string) error {
	if len(local) > MaxLocalPart {
		return fmt.Errorf("local part longer than %d octets", MaxLocalPart)
	}
	if !utf8.ValidString(local) {
		return errors.New("local part is not valid UTF-8")
	}
	quoted := len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("local part has byte 0x%02x", c)
		case (c == ' ' || c == '@' || c == '\\') && !quoted:
			return fmt.Errorf("local part has %q outside quotes", c)
		}
	}
	if !quoted && (local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..")) {
		return errors.New("local part has an empty dot-separated part")
	}
	return nil
}

// NormalizeDomain lower-cases a domain, drops one trailing dot and checks it
// is a host name of letters, digits, hyphens and underscores within DNS limits.
func NormalizeDomain(d string) (string, error) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if d == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDomain)
	}
	if len(d) > MaxDomain {
		return "", fmt.Errorf("%w: longer than %d octets", ErrBadDomain, MaxDomain)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > MaxLabel {
			return "", fmt.Errorf("%w %q: empty label or label over %d octets", ErrBadDomain, d, MaxLabel)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%w %q: byte %q", ErrBadDomain, d, c)
			}
		}
	}
	return d, nil
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
