package childzone

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"
)

// The primaries' answers must be signed when the node has a key: miekg
// verifies a TSIG an answer carries but takes an answer without one, so
// anyone on the path to the cluster could hand the node a zone of their
// own. keyProvider signs with the postmaster's key and counts the answers
// it verified; a SOA answer or a transfer with none is refused.

// keyProvider is the postmaster's hmac-sha256 key as a dns.TsigProvider.
type keyProvider struct {
	name, secret string
	verified     atomic.Int64
}

// Generate is the HMAC-SHA256 of msg under the key.
func (k *keyProvider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	if !strings.EqualFold(t.Hdr.Name, k.name) || !strings.EqualFold(t.Algorithm, dns.HmacSHA256) {
		return nil, dns.ErrKeyAlg
	}
	raw, err := base64.StdEncoding.DecodeString(k.secret)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, raw)
	h.Write(msg)
	return h.Sum(nil), nil
}

// Verify checks msg's MAC and counts it.
func (k *keyProvider) Verify(msg []byte, t *dns.TSIG) error {
	want, err := k.Generate(msg, t)
	if err != nil {
		return err
	}
	mac, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(want, mac) {
		return dns.ErrSig
	}
	k.verified.Add(1)
	return nil
}
