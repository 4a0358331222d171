package qname

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wlns/wlns/record"
)

// Form selects how Sender writes the sender address.
type Form int

// The sender forms. The zero value is Escaped.
const (
	// Escaped is the RFC 1035 mailbox form: the local part is one label with
	// its dots escaped (first\.last.umkc.edu).
	Escaped Form = iota
	// Plain writes the local part's dots as label separators, as SPF's
	// %{l}.%{o} does (first.last.umkc.edu).
	Plain
	// Hashed writes one label: the unpadded base32 SHA-256 of the address
	// (Spamhaus HBL compatible).
	Hashed
	// HashedDomain writes the hash label followed by the domain, so that the
	// domain-wide entry still matches (a wlns extension).
	HashedDomain
)

// String names the form as the CLI spells it.
func (f Form) String() string {
	switch f {
	case Escaped:
		return "escaped"
	case Plain:
		return "plain"
	case Hashed:
		return "hashed"
	case HashedDomain:
		return "hashed-domain"
	}
	return "form(" + strconv.Itoa(int(f)) + ")"
}

// ParseForm reads a form name: "escaped", "plain", "hashed" or
// "hashed-domain".
func ParseForm(s string) (Form, error) {
	for _, f := range []Form{Escaped, Plain, Hashed, HashedDomain} {
		if strings.EqualFold(s, f.String()) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown sender form %q (want escaped, plain, hashed or hashed-domain)", s)
}

// Errors returned by the builders. They are wrapped with details.
var (
	// ErrTooLong means the readable name exceeds 255 octets or a label 63;
	// the hashed form always fits.
	ErrTooLong = errors.New("name exceeds DNS limits (use the hashed form)")
	// ErrNotReadable means the readable forms cannot carry the address: an
	// address literal domain, or (Plain) an empty dot-separated part of the
	// local part; the hashed form can.
	ErrNotReadable = errors.New("the readable forms cannot carry this address (use the hashed form)")
	// ErrNotAddress means a sender name was asked for a bare domain.
	ErrNotAddress = errors.New("sender is not an address local@domain")
	// ErrBadIP means the relay address is not a usable IPv4 or IPv6 address.
	ErrBadIP = errors.New("invalid relay IP address")
)

// Zone labels under the apex (record.Trees lists them).
const (
	RelayZone  = record.RelayTree
	SenderZone = record.SenderTree
	VerpZone   = record.VerpTree
)

// Relay returns the relay-zone name of ip: <rev-ip>.relay.<apex>.
func Relay(ip netip.Addr, apex string) string {
	var b strings.Builder
	appendRevIP(&b, ip.Unmap())
	b.WriteString(RelayZone + ".")
	b.WriteString(fqdn(apex))
	return b.String()
}

// Sender returns the sender-zone name of an address sent through ip:
// <sender>.<rev-ip>.sender.<apex>, in the given form.
func Sender(sender string, ip netip.Addr, apex string, form Form) (string, error) {
	if !ip.IsValid() {
		return "", ErrBadIP
	}
	addr, err := record.NormalizeSender(sender)
	if err != nil {
		return "", fmt.Errorf("building sender name: %w", err)
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", fmt.Errorf("building sender name for %q: %w", addr, ErrNotAddress)
	}
	if form == Hashed {
		return build([]string{record.HashLabel(addr)}, ip, SenderZone, apex)
	}
	if record.IsAddressLiteral(addr[at+1:]) {
		return "", fmt.Errorf("building %s name: address literal %s: %w", form, addr[at+1:], ErrNotReadable)
	}
	var labels []string
	switch form {
	case HashedDomain:
		labels = []string{record.HashLabel(addr)}
	case Plain:
		labels = strings.Split(addr[:at], ".")
		if slices.Contains(labels, "") {
			return "", fmt.Errorf("building plain name: local part with an empty dot-separated part: %w", ErrNotReadable)
		}
	case Escaped:
		labels = []string{addr[:at]}
	default:
		return "", fmt.Errorf("building sender name: unknown form %d", int(form))
	}
	labels = append(labels, strings.Split(addr[at+1:], ".")...)
	return build(labels, ip, SenderZone, apex)
}

// Verp returns the VERP-zone name of a list domain sent through ip:
// <list-domain>.<rev-ip>.verp.<apex>.
func Verp(domain string, ip netip.Addr, apex string) (string, error) {
	if !ip.IsValid() {
		return "", ErrBadIP
	}
	d, err := record.NormalizeDomain(domain)
	if err != nil {
		return "", fmt.Errorf("building VERP name: %w", err)
	}
	return build(strings.Split(d, "."), ip, VerpZone, apex)
}

// build checks the DNS limits and writes labels, the rev-ip, the zone label
// and the apex in presentation format.
func build(labels []string, ip netip.Addr, zone, apex string) (string, error) {
	ip = ip.Unmap()
	apexFQDN := fqdn(apex)
	wire := revIPLen(ip) + 1 + len(zone) + wireLen(apexFQDN) + 1
	for _, l := range labels {
		if l == "" {
			return "", fmt.Errorf("building %s name: empty label: %w", zone, ErrTooLong)
		}
		if len(l) > record.MaxLabel {
			return "", fmt.Errorf("building %s name: label of %d octets: %w", zone, len(l), ErrTooLong)
		}
		wire += 1 + len(l)
	}
	if wire > 255 {
		return "", fmt.Errorf("building %s name: %d octets: %w", zone, wire, ErrTooLong)
	}
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(escapeLabel(l))
		b.WriteByte('.')
	}
	appendRevIP(&b, ip)
	b.WriteString(zone)
	b.WriteByte('.')
	b.WriteString(apexFQDN)
	return b.String(), nil
}

// revIPLen is the wire length of the reversed address's labels.
func revIPLen(ip netip.Addr) int {
	if !ip.Is4() {
		return 64
	}
	n := 0
	for _, o := range ip.As4() {
		n += 1 + len(strconv.Itoa(int(o)))
	}
	return n
}

// wireLen is the wire length of a presentation-format name without escapes,
// excluding the root label.
func wireLen(fq string) int {
	if fq == "." {
		return 0
	}
	return len(fq)
}

const hexDigits = "0123456789abcdef"

// appendRevIP writes the reversed address with a trailing dot.
func appendRevIP(b *strings.Builder, ip netip.Addr) {
	if ip.Is4() {
		a := ip.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(a[i])))
			b.WriteByte('.')
		}
		return
	}
	a := ip.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hexDigits[a[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hexDigits[a[i]>>4])
		b.WriteByte('.')
	}
}

// fqdn lower-cases a name and gives it exactly one trailing dot.
func fqdn(s string) string {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if s == "" {
		return "."
	}
	return s + "."
}

// escapeLabel writes one label in presentation format as dig does: dots and
// the zone-file specials backslash-escaped, other bytes outside printable
// ASCII as \DDD.
func escapeLabel(l string) string {
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '.' || c == '"' || c == '(' || c == ')' || c == ';' || c == '\\' || c == '@' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c <= ' ' || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Cut returns the delegated name of prefix p in tree (RelayZone,
// SenderZone or VerpZone) under apex, fully qualified: 192.0.2.0/24 in the
// relay tree of wl.example.org is "2.0.192.relay.wl.example.org.". A
// prefix that is not a delegation cut (record.CutKey) is an error.
func Cut(p netip.Prefix, tree, apex string) (string, error) {
	if !record.IsTree(tree) {
		return "", fmt.Errorf("unknown tree %q (relay, sender or verp)", tree)
	}
	key, err := record.CutKey(p)
	if err != nil {
		return "", err
	}
	labels := strings.Split(key, ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "." + tree + "." + fqdn(apex), nil
}
