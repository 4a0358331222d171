package admin

import (
	"net/http"
	"net/netip"
	"strconv"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// target is the relay a pair or VERP source belongs to: named by an IP
// (resolved by longest-prefix match, maybe to no entity yet) or by ID.
type target struct {
	ip     netip.Addr
	entity *record.Entity
}

// resolveTarget reads the ip/entity pair of a request.
func resolveTarget(v *index.View, ip string, id uint64) (target, error) {
	switch {
	case ip != "" && id != 0:
		return target{}, errorf(http.StatusBadRequest, "give ip or entity, not both")
	case ip != "":
		a, err := parseIP(ip)
		if err != nil {
			return target{}, err
		}
		return target{ip: a, entity: v.EntityOf(a)}, nil
	case id != 0:
		e := v.Entity(id)
		if e == nil {
			return target{}, errorf(http.StatusNotFound, "no entity %d", id)
		}
		return target{entity: e}, nil
	default:
		return target{}, errorf(http.StatusBadRequest, "ip or entity is required")
	}
}

// parseIP reads a single IP address.
func parseIP(s string) (netip.Addr, error) {
	p, err := record.ParsePrefix(s)
	if err != nil || !p.IsSingleIP() {
		return netip.Addr{}, errorf(http.StatusBadRequest, "invalid ip %q: not an IP address", s)
	}
	return p.Addr(), nil
}

// parsePrefixes reads member prefixes, dropping duplicates.
func parsePrefixes(ss []string) ([]netip.Prefix, []string, error) {
	seen := make(map[netip.Prefix]bool, len(ss))
	var ps []netip.Prefix
	var out []string
	for _, s := range ss {
		p, err := record.ParsePrefix(s)
		if err != nil {
			return nil, nil, errorf(http.StatusBadRequest, "invalid prefix %q: not an IP address or CIDR", s)
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		ps = append(ps, p)
		out = append(out, p.String())
	}
	return ps, out, nil
}

// mayWrite checks the caller may write records of the target.
func (t target) mayWrite(c *caller) error {
	if t.entity != nil {
		return c.mayWriteEntity(t.entity)
	}
	return c.mayWrite(netip.PrefixFrom(t.ip, t.ip.BitLen()))
}

// entityID is the target's entity after a write that may have created it.
func (t target) entityID(v *index.View, applied uint64) uint64 {
	if applied != 0 {
		return applied
	}
	if t.entity != nil {
		return t.entity.ID
	}
	if e := v.EntityOf(t.ip); e != nil {
		return e.ID
	}
	return 0
}

// String names the target in messages.
func (t target) String() string {
	if t.entity != nil {
		return "entity " + strconv.FormatUint(t.entity.ID, 10) + " (" + t.entity.Label() + ")"
	}
	return t.ip.String()
}
