package record

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Delegation hands a prefix of the address space to a postmaster's own
// name servers: in the relay, sender and VERP trees every name at and
// below the prefix's cut (CutKey) is answered by a referral to NS.
type Delegation struct {
	// Prefix is the delegated prefix; its length is a multiple of 8 (IPv4)
	// or 4 (IPv6), so that it is one DNS name (see CutKey).
	Prefix netip.Prefix `json:"prefix"`
	// NS are the postmaster's name servers, sorted by name.
	NS []NameServer `json:"ns"`
	// By is the token that wrote the delegation.
	By string `json:"by,omitempty"`
	// Created and Updated are Unix seconds from the writing commands.
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
}

// NameServer is one name server of a delegation: its name and, for a name
// inside the wlns zone, the addresses sent as glue.
type NameServer struct {
	// Name is the server's host name, lower case, without the final dot.
	Name string `json:"name"`
	// Addrs are the glue addresses, sorted; empty for a name outside the
	// zone, which resolvers look up themselves.
	Addrs []netip.Addr `json:"addrs,omitempty"`
}

// MaxNameServers bounds the name servers of one delegation, so a referral
// always fits a 1232-byte answer with room to spare.
const MaxNameServers = 8

// MaxGlue bounds the glue addresses of one name server.
const MaxGlue = 4

// Errors of delegation validation; they are wrapped with the details.
var (
	// ErrCutNotAligned means a prefix does not end on a label boundary.
	ErrCutNotAligned = errors.New("a delegated prefix must end on a DNS label: an IPv4 length of 8, 16, 24 or 32, an IPv6 length that is a multiple of 4")
	// ErrCutAmbiguous means the prefix's cut name also names addresses of
	// the other family (see CutKey).
	ErrCutAmbiguous = errors.New("the cut name of this prefix also covers addresses of the other IP family")
)

// CutKey returns the labels of p's cut below the tree label, nearest the
// apex first, joined by dots: 192.0.2.0/24 gives "192.0.2" (the cut
// 2.0.192.relay.<apex>), 2001:db8::/32 gives "2.0.0.1.0.d.b.8". The zone
// finds a query's cut by joining its labels the same way. A prefix whose
// length is not on a label boundary has no cut name (ErrCutNotAligned).
//
// A name is one namespace for both families: labels that are all single
// decimal digits are both IPv4 octets and IPv6 nibbles, so the cut of
// 1.2.3.0/24 (labels 1, 2, 3) would also delegate the IPv6 names of
// 1230::/12, and the cut of 2000::/12 (2, 0, 0) the IPv4 names of
// 2.0.0.0/24. Such prefixes are refused (ErrCutAmbiguous): delegate
// longer prefixes instead.
func CutKey(p netip.Prefix) (string, error) {
	p = p.Masked()
	a, bits := p.Addr(), p.Bits()
	var labels []string
	if a.Is4() {
		if bits == 0 || bits%8 != 0 {
			return "", fmt.Errorf("%s: %w", p, ErrCutNotAligned)
		}
		b := a.As4()
		for i := range bits / 8 {
			labels = append(labels, strconv.Itoa(int(b[i])))
		}
	} else {
		if bits == 0 || bits%4 != 0 {
			return "", fmt.Errorf("%s: %w", p, ErrCutNotAligned)
		}
		b := a.As16()
		for i := range bits / 4 {
			labels = append(labels, strconv.FormatUint(uint64(b[i/2]>>(4*(1-i%2))&0xf), 16))
		}
	}
	if ambiguous(labels) {
		return "", fmt.Errorf("%s: %w", p, ErrCutAmbiguous)
	}
	return strings.Join(labels, "."), nil
}

// ambiguous reports whether labels are a partial rev-ip in both families:
// at most four labels, each a single decimal digit.
func ambiguous(labels []string) bool {
	if len(labels) > 4 {
		return false
	}
	for _, l := range labels {
		if len(l) != 1 || l[0] < '0' || l[0] > '9' {
			return false
		}
	}
	return true
}

// NormalizeNameServers validates, lower-cases, sorts and de-duplicates a
// delegation's name servers: 1 to MaxNameServers host names, each with at
// most 4 glue addresses.
func NormalizeNameServers(in []NameServer) ([]NameServer, error) {
	if len(in) == 0 || len(in) > MaxNameServers {
		return nil, fmt.Errorf("a delegation needs 1 to %d name servers, got %d", MaxNameServers, len(in))
	}
	out := make([]NameServer, 0, len(in))
	for _, ns := range in {
		name, err := NormalizeDomain(strings.TrimSuffix(strings.TrimSpace(ns.Name), "."))
		if err != nil {
			return nil, fmt.Errorf("name server %q: %w", ns.Name, err)
		}
		if len(ns.Addrs) > MaxGlue {
			return nil, fmt.Errorf("name server %s: at most %d addresses", name, MaxGlue)
		}
		addrs := make([]netip.Addr, 0, len(ns.Addrs))
		for _, a := range ns.Addrs {
			if !a.IsValid() || a.IsUnspecified() || a.Zone() != "" {
				return nil, fmt.Errorf("name server %s: invalid address %v", name, a)
			}
			addrs = append(addrs, a.Unmap())
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		out = append(out, NameServer{Name: name, Addrs: slices.Compact(addrs)})
	}
	slices.SortFunc(out, func(a, b NameServer) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("name server %s given twice", out[i].Name)
		}
	}
	return out, nil
}
