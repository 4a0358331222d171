package rbldnsd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Entry is one address entry of a dataset: the prefixes it lists (a range
// is covered by several) and its line.
type Entry struct {
	Line     int
	Prefixes []netip.Prefix
}

// ErrExclusion is returned for an exclusion entry ("!addr"): the whitelist
// has no way to cut an address out of a listed range it imports.
var ErrExclusion = errors.New("exclusion entries cannot be imported")

// maxLine bounds one dataset line.
const maxLine = 64 << 10

// Parse reads the address entries of an ip4set, ip4trie, ip4tset, ip6trie
// or ip6tset dataset and hands each to fn, stopping at fn's first error.
// Comments, empty lines, special ($...) lines, default-value (:...) lines
// and every entry's A value and TXT are skipped. An entry that cannot be
// read stops it with an error naming the line.
func Parse(r io.Reader, fn func(Entry) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.ContainsRune("#;$", rune(line[0])) || line[0] == ':' && !strings.HasPrefix(line, "::") {
			continue // a comment, a special line or a default value (not an address such as ::1)
		}
		field := line
		if i := strings.IndexAny(line, " \t#;"); i >= 0 {
			field = line[:i]
		}
		ps, err := parseEntry(field)
		if err != nil {
			return fmt.Errorf("line %d: %q: %w", n, field, err)
		}
		if err := fn(Entry{Line: n, Prefixes: ps}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the dataset: %w", err)
	}
	return nil
}

// parseEntry reads one address field.
func parseEntry(s string) ([]netip.Prefix, error) {
	switch {
	case strings.HasPrefix(s, "!"):
		return nil, ErrExclusion
	case strings.Contains(s, ":"):
		p, err := parseIP6(s)
		if err != nil {
			return nil, err
		}
		return []netip.Prefix{p}, nil
	}
	lo, hi, err := parseIP4(s)
	if err != nil {
		return nil, err
	}
	return rangePrefixes(lo, hi), nil
}

// parseIP6 reads an ip6trie entry: an address or CIDR, where an address
// without "::" may leave out its trailing zero groups (2001:db8:c000/36;
// without a length, such an address stands for its groups' prefix).
func parseIP6(s string) (netip.Prefix, error) {
	addr, length, hasLen := strings.Cut(s, "/")
	bits := 128
	if !strings.Contains(addr, "::") {
		if g := strings.Count(addr, ":") + 1; g < 8 {
			addr += "::"
			bits = g * 16
		}
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Prefix{}, errors.New("not an IPv6 address or prefix")
	}
	if hasLen {
		if bits, err = strconv.Atoi(length); err != nil || bits < 0 || bits > 128 {
			return netip.Prefix{}, errors.New("invalid prefix length")
		}
	}
	return masked(a, bits)
}

// parseIP4 reads an ip4set entry into the range it lists: a full or
// partial address (127.0.0 is 127.0.0.0/24), a CIDR with a full or partial
// address (127.16/12), or a range of two of them (127.16.0-127.31.255; a
// one-octet end replaces the start's last given octet: 127.0.0.1-255).
func parseIP4(s string) (netip.Addr, netip.Addr, error) {
	if a, b, ok := strings.Cut(s, "-"); ok {
		lo, n, err := octets(a)
		if err != nil {
			return netip.Addr{}, netip.Addr{}, err
		}
		hi, m, err := octets(b)
		if err != nil {
			return netip.Addr{}, netip.Addr{}, err
		}
		if m == 1 && n > 1 {
			hi, m = lo, n
			hi[n-1] = byte(mustOctet(b))
		}
		for i := m; i < 4; i++ {
			hi[i] = 255
		}
		l, h := netip.AddrFrom4(lo), netip.AddrFrom4(hi)
		if h.Less(l) {
			return netip.Addr{}, netip.Addr{}, errors.New("range ends before it starts")
		}
		return l, h, nil
	}
	addr, length, hasLen := strings.Cut(s, "/")
	o, n, err := octets(addr)
	if err != nil {
		return netip.Addr{}, netip.Addr{}, err
	}
	bits := n * 8
	if hasLen {
		if bits, err = strconv.Atoi(length); err != nil || bits < 0 || bits > 32 {
			return netip.Addr{}, netip.Addr{}, errors.New("invalid prefix length")
		}
	}
	p, err := masked(netip.AddrFrom4(o), bits)
	if err != nil {
		return netip.Addr{}, netip.Addr{}, err
	}
	return p.Addr(), lastAddr(p), nil
}

// octets reads 1 to 4 dotted decimal octets, the rest zero.
func octets(s string) ([4]byte, int, error) {
	var o [4]byte
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return o, 0, errors.New("not an IPv4 address")
	}
	for i, p := range parts {
		v := mustOctet(p)
		if v < 0 {
			return o, 0, errors.New("not an IPv4 address")
		}
		o[i] = byte(v)
	}
	return o, len(parts), nil
}

// mustOctet is s as an octet, or -1.
func mustOctet(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 255 || s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
		return -1
	}
	return v
}

// masked is a/bits, refusing host bits set (rbldnsd would list another
// range than the line seems to say).
func masked(a netip.Addr, bits int) (netip.Prefix, error) {
	p := netip.PrefixFrom(a, bits)
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("host bits set (did you mean %s?)", m)
	}
	return p, nil
}
