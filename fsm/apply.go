package fsm

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// applier applies commands into one index transaction and a working copy of
// the FSM state. A Batch applies into a child applier and is adopted only if
// every command succeeds.
type applier struct {
	txn *index.Txn
	st  state
	// ownGroups is set once st.groups is this applier's own copy, written
	// in place (setGroup).
	ownGroups bool
}

func (a *applier) view() *index.View { return a.txn.View() }

// apply applies one command through its kind (kind.go). Rejections are
// values; nothing here reads a clock, a random source or iterates a map
// in an order that matters.
func (a *applier) apply(e *command.Envelope) command.Result {
	k := kinds[e.Type]
	if k == nil {
		return command.Result{Err: command.Reject(command.Invalid, "unknown command type %q", e.Type)}
	}
	return k.apply(a, e)
}

// decodeBody reads e's body into dst; a body that does not decode is a
// deterministic Invalid rejection (Store.Apply refuses such envelopes
// before they reach the log).
func decodeBody(e *command.Envelope, dst any) *command.Rejection {
	if err := e.DecodeBody(dst); err != nil {
		return command.Reject(command.Invalid, "%v", err)
	}
	return nil
}

// parsePrefixes parses, masks, sorts and de-duplicates prefixes.
func parsePrefixes(in []string) ([]netip.Prefix, *command.Rejection) {
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		p, err := record.ParsePrefix(s)
		if err != nil {
			return nil, command.Reject(command.Invalid, "%v", err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out), nil
}

// comparePrefix orders prefixes by family, address, then length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// parseAddr parses a single relay address.
func parseAddr(s string) (netip.Addr, *command.Rejection) {
	p, err := record.ParsePrefix(s)
	if err != nil {
		return netip.Addr{}, command.Reject(command.Invalid, "%v", err)
	}
	if !p.IsSingleIP() {
		return netip.Addr{}, command.Reject(command.Invalid, "%q is a prefix, not an address", s)
	}
	return p.Addr(), nil
}

// checkOwners rejects prefixes that another entity than self has as members.
func (a *applier) checkOwners(prefixes []netip.Prefix, self uint64) *command.Rejection {
	v := a.view()
	for _, p := range prefixes {
		if id := v.PrefixOwnerID(p); id != 0 && id != self {
			owner := v.Entity(id) // built only for the rejection
			return command.Reject(command.Conflict, "prefix %s belongs to entity %d (%s)", p, owner.ID, owner.Label())
		}
	}
	return nil
}

// newID hands out the next entity ID.
func (a *applier) newID() uint64 {
	a.st.lastID++
	return a.st.lastID
}
