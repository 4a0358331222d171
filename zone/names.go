package zone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// packName converts a presentation-format name to wire form.
func packName(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty name")
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(s), buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("packing name: %w", err)
	}
	return buf[:n], nil
}

// packMailbox converts an SOA RNAME given as a mailbox ("hostmaster@example.org",
// dots in the local part become part of its label) or in DNS form to wire form.
func packMailbox(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return packName(s)
	}
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > 63 {
		return nil, fmt.Errorf("local part must be 1 to 63 octets")
	}
	d, err := packName(domain)
	if err != nil {
		return nil, err
	}
	out := append([]byte{byte(len(local))}, local...)
	return append(out, d...), nil
}

// lowerWire lower-cases the ASCII letters of a wire-form name.
func lowerWire(w []byte) []byte {
	out := make([]byte, len(w))
	for i := 0; i < len(w); {
		l := int(w[i])
		out[i] = w[i]
		for j := i + 1; j <= i+l; j++ {
			c := w[j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			out[j] = c
		}
		i += 1 + l
		if l == 0 {
			break
		}
	}
	return out
}
