package rbldnsd

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Dataset is what Write prints: the listed prefixes of one address family
// and the answers' A value and TTL.
type Dataset struct {
	// Type is "ip4set" or "ip6trie" (the comment line names it).
	Type string
	// A is the A value of every entry, e.g. "127.0.2.1".
	A string
	// TTL is the dataset's $TTL in seconds.
	TTL uint32
	// Entries are disjoint listed prefixes (see Flatten) of Type's family.
	Entries []Member
}

// Write prints d in rbldnsd's format: a comment, $TTL, then one entry a
// line with its own A value and TXT template ("$" in a text is written
// "$$", since rbldnsd replaces a lone "$" with the queried address).
func Write(w io.Writer, d Dataset) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# wlns relay zone as an rbldnsd %s dataset: %d entries\n$TTL %d\n", d.Type, len(d.Entries), d.TTL)
	for _, e := range d.Entries {
		addr := entryAddr(e.Prefix)
		fmt.Fprintf(bw, "%s :%s:%s\n", addr, d.A, template(e.Text))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the %s dataset: %w", d.Type, err)
	}
	return nil
}

// template makes text safe as a TXT template: "$" doubled, control
// characters (a line break would end the entry) replaced by "?".
func template(text string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ReplaceAll(text, "$", "$$"))
}

// entryAddr prints p as a dataset entry: the address alone for a single
// address, an IPv4-mapped address in hexadecimal groups (rbldnsd's IPv6
// parser reads no dotted quad).
func entryAddr(p netip.Prefix) string {
	a := p.Addr()
	s := a.String()
	if a.Is4In6() {
		b := a.As16()
		s = fmt.Sprintf("::ffff:%x:%x", uint16(b[12])<<8|uint16(b[13]), uint16(b[14])<<8|uint16(b[15]))
	}
	if p.IsSingleIP() {
		return s
	}
	return fmt.Sprintf("%s/%d", s, p.Bits())
}
