package zone

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// ExportConfig says which subtree Export writes and how.
type ExportConfig struct {
	// Apex is the wlns zone's apex.
	Apex string
	// Tree is qname.RelayZone, qname.SenderZone or qname.VerpZone.
	Tree string
	// Hostmaster is the SOA RNAME, as a mailbox or in DNS form; default
	// hostmaster@<apex>.
	Hostmaster string
	// TTL and NegativeTTL are the positive and SOA minimum TTLs; defaults
	// 300 and 60 as `wlns serve`.
	TTL, NegativeTTL uint32
}

// MaxExportAddrs bounds the relay addresses one export enumerates: every
// address of a member prefix inside the delegation gets its own names, as
// a zone file has no longest-prefix match.
const MaxExportAddrs = 1 << 16

// ErrNotExportable means the delegated subtree holds something a zone
// file cannot say; the error names it.
var ErrNotExportable = errors.New("not expressible as a zone file")

// Export writes, in zone-file syntax, the zone a delegation's own servers
// load to answer its cut in one tree as wlns answers it from v: the SOA
// (serial: v's zone serial), the delegation's NS records, addresses for
// name servers inside the cut, and every listed name with its A and TXT
// records. Sender names come in the escaped, plain, hashed and
// hashed-domain forms; a domain-wide pair is a wildcard under the domain.
func Export(w io.Writer, v *index.View, d *record.Delegation, c ExportConfig) error {
	c.setDefaults()
	origin, err := qname.Cut(d.Prefix, c.Tree, c.Apex)
	if err != nil {
		return err
	}
	addrs, err := exportAddrs(v, d.Prefix)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	x := &exporter{w: bw, v: v, c: c, origin: origin}
	x.head(d)
	x.group(addrs)
	for _, a := range addrs {
		x.addr(a)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing zone %s: %w", origin, err)
	}
	return x.err
}

func (c *ExportConfig) setDefaults() {
	c.Apex = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(c.Apex), "."))
	if c.Hostmaster == "" {
		c.Hostmaster = "hostmaster@" + strings.TrimSuffix(c.Apex, ".")
	}
	if c.TTL == 0 {
		c.TTL = 300
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = 60
	}
}

// exportAddrs lists, in order, every address inside p that belongs to an
// entity: the parts of the entities' member prefixes that lie in p.
func exportAddrs(v *index.View, p netip.Prefix) ([]netip.Addr, error) {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	var err error
	v.Entities(func(e *record.Entity) bool {
		for _, m := range e.Prefixes {
			if !m.Overlaps(p) {
				continue
			}
			in := m
			if p.Bits() > m.Bits() {
				in = p
			}
			if in.Addr().BitLen()-in.Bits() > 16 || len(out)+(1<<(in.Addr().BitLen()-in.Bits())) > MaxExportAddrs {
				err = fmt.Errorf("member %s of %s covers more than %d addresses of %s: %w", m, e.Label(), MaxExportAddrs, p, ErrNotExportable)
				return false
			}
			for a := in.Addr(); in.Contains(a); a = a.Next() {
				if !seen[a] {
					seen[a] = true
					out = append(out, a)
				}
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}
