package record

import (
	"net/netip"
	"slices"
	"strings"
)

// The three trees of the whitelist's names, each the label right under the
// apex: the relay, sender and VERP zones. This is the one list of them
// (qname names its constants after it; record is below every package that
// builds or answers names).
const (
	RelayTree  = "relay"
	SenderTree = "sender"
	VerpTree   = "verp"
)

// Trees returns the three tree labels, in the order relay, sender, VERP.
func Trees() [3]string { return [3]string{RelayTree, SenderTree, VerpTree} }

// IsTree reports whether label is one of the three tree labels.
func IsTree(label string) bool {
	t := Trees()
	return slices.Contains(t[:], label)
}

// BelowCut reports whether a host name (lower case, no final dot) lies
// below one of the cuts of the delegated prefix p, <cut>.<tree>.<apex> for
// any tree and any apex: the only names whose addresses the delegation may
// carry as glue. Glue for another name would publish addresses at a name
// the delegation does not own (on every secondary, too). With the apex
// known, compare with the cut names themselves (qname.Cut); this test
// needs none, so the store can apply it whatever apex its nodes serve.
func BelowCut(p netip.Prefix, name string) bool {
	key, err := CutKey(p)
	if err != nil {
		return false
	}
	labels := strings.Split(key, ".")
	slices.Reverse(labels)
	rev := strings.Join(labels, ".")
	for _, tree := range Trees() {
		if i := strings.Index("."+name, "."+rev+"."+tree+"."); i > 0 {
			return true
		}
	}
	return false
}
