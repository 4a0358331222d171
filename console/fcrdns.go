package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/wlns/wlns/record"
)

// fcrdnsTimeout bounds the whole forward-confirmed reverse DNS check.
const fcrdnsTimeout = 5 * time.Second

// NewResolver returns a resolver that sends every query to the DNS server
// at addr (host:port) instead of the system's: Config.Resolver for a node
// told which recursive server to use, and for tests.
func NewResolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// confirmPTR is the forward-confirmed reverse DNS check of a relay: the
// first name the PTR records of ip give whose A (AAAA for IPv6) records
// contain ip, lower case without the final dot. The error says, in the
// page's words, what did not match.
func confirmPTR(ctx context.Context, res *net.Resolver, ip netip.Addr) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fcrdnsTimeout)
	defer cancel()
	names, err := res.LookupAddr(ctx, ip.String())
	if err != nil || len(names) == 0 {
		return "", fmt.Errorf("%s has no reverse DNS name (PTR record)%s; ask whoever runs its address block to set one to the relay's host name", ip, dnsReason(err))
	}
	network := "ip4"
	if ip.Is6() {
		network = "ip6"
	}
	var tried []string
	for _, n := range names {
		name, err := record.NormalizeDomain(strings.TrimSuffix(n, "."))
		if err != nil {
			continue
		}
		tried = append(tried, name)
		addrs, err := res.LookupNetIP(ctx, network, name)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a.Unmap() == ip {
				return name, nil
			}
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("the reverse DNS name of %s (%s) is not a valid host name", ip, strings.Join(names, ", "))
	}
	return "", fmt.Errorf("the reverse DNS name of %s is %s, but that name does not resolve back to %s: add the address to its %s records",
		ip, strings.Join(tried, ", "), ip, map[string]string{"ip4": "A", "ip6": "AAAA"}[network])
}

// dnsReason is the resolver's reason for a failed look-up, when it is
// more than "not found".
func dnsReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) && !de.IsNotFound {
		return " (" + de.Err + ")"
	}
	return ""
}
