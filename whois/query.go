package whois

import (
	"errors"
	"net/netip"
	"strings"
)

// MaxQuery is the longest query line accepted, CRLF excluded.
const MaxQuery = 256

// Query errors, answered as comments.
var (
	// ErrEmpty is a blank query.
	ErrEmpty = errors.New("empty query: ask for an IP address or a relay group name")
	// ErrTooLong is a query over MaxQuery bytes.
	ErrTooLong = errors.New("query too long")
	// ErrBadQuery is a query that is neither an address nor a group name.
	ErrBadQuery = errors.New("not an IP address or a relay group name")
)

// Query is a parsed query: an address, or else a group name.
type Query struct {
	Addr  netip.Addr
	Group string
}

// ParseQuery reads one query line (without its CRLF): an IPv4 or IPv6
// address, or a group name (letters, digits, '.', '-', '_'; any case).
// Leading and trailing blanks are ignored; an IPv4-mapped address is read
// as the IPv4 address, as the DNS zones read it.
func ParseQuery(line string) (Query, error) {
	if len(line) > MaxQuery {
		return Query{}, ErrTooLong
	}
	s := strings.TrimSpace(line)
	if s == "" {
		return Query{}, ErrEmpty
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return Query{}, ErrBadQuery
		}
		return Query{Addr: a.Unmap()}, nil
	}
	name := strings.ToLower(s)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return Query{}, ErrBadQuery
		}
	}
	if len(name) > 64 {
		return Query{}, ErrBadQuery
	}
	return Query{Group: name}, nil
}
