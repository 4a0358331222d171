package systest

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// Relays and senders of the shared fixture. Names are computed here, not
// with wlns's qname package, so a mistake there cannot hide in both.
const (
	relayV4    = "192.0.2.4"
	relayV6    = "2001:db8::25"
	otherV4    = "192.0.2.5" // no entity
	groupName  = "umkc-mx"
	groupV4Net = "198.51.100.0/24"
	groupV6Net = "2001:db8:1::/48"
	groupV4    = "198.51.100.7"   // the member a sender was verified through
	groupV4b   = "198.51.100.200" // another address of the same group
	groupV6    = "2001:db8:1::9"  // a v6 address of the same group
	verpDomain = "lists.example.net"
	wideDomain = "bigcorp.example" // verified domain-wide through relayV4
)

// fixture is a node loaded with the shared test data through the CLI and API.
type fixture struct {
	*node
	groupID uint64
}

// newFixture starts a node and loads: registered relays v4 and v6, pairs
// (including a dotted local part and a domain-wide entry), a VERP source,
// and a registered group with v4 and v6 CIDR members and a pair verified
// through one member.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{node: startNode(t, "")}
	f.mustCLI("relay", "add", relayV4, "--contact", "postmaster@umkc.edu")
	f.mustCLI("relay", "add", relayV6, "--contact", "postmaster@umkc.edu")
	f.mustCLI("pair", "add", "dave@umkc.edu", relayV4)
	f.mustCLI("pair", "add", "first.last@umkc.edu", relayV4)
	f.mustCLI("pair", "add", "@"+wideDomain, relayV4)
	f.mustCLI("pair", "add", "dave@umkc.edu", relayV6)
	f.mustCLI("verp", "add", verpDomain, relayV4)
	out := f.mustCLI("group", "create", groupName, "--member", groupV4Net, "--member", groupV6Net,
		"--contact", "postmaster@umkc.edu", "--registered")
	f.groupID = entityID(t, []byte(out))
	f.mustCLI("pair", "add", "carol@umkc.edu", groupV4)
	return f
}

// rev returns the reversed-IP labels of an address: 4 decimal octets or 32
// nibbles.
func rev(t testing.TB, ip string) string {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		t.Fatalf("bad test address %q: %v", ip, err)
	}
	a = a.Unmap()
	var labels []string
	if a.Is4() {
		for _, o := range a.As4() {
			labels = append([]string{strconv.Itoa(int(o))}, labels...)
		}
		return strings.Join(labels, ".")
	}
	const hex = "0123456789abcdef"
	for _, b := range a.As16() {
		labels = append([]string{string(hex[b>>4])}, labels...)
		labels = append([]string{string(hex[b&0xf])}, labels...)
	}
	return strings.Join(labels, ".")
}

// hashLabel is the Spamhaus-HBL form: unpadded lower-case base32 of the
// SHA-256 of the lower-cased address.
func hashLabel(addr string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(addr)))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
}

// relayName, senderName and verpName build query names under the apex.
func relayName(t testing.TB, ip string) string { return rev(t, ip) + ".relay." + apex }
func senderName(t testing.TB, sender, ip string) string {
	return sender + "." + rev(t, ip) + ".sender." + apex
}
func verpName(t testing.TB, domain, ip string) string {
	return domain + "." + rev(t, ip) + ".verp." + apex
}
