package command

// The delegation commands (envelope version 5).
const (
	// DelegationPut creates or replaces the delegation of a prefix to a
	// postmaster's name servers.
	DelegationPut Type = "delegation.put"
	// DelegationDelete removes the delegation of a prefix.
	DelegationDelete Type = "delegation.delete"
)

// DelegationBody is the body of DelegationPut and DelegationDelete
// (Prefix only).
type DelegationBody struct {
	// Prefix is the delegated prefix ("192.0.2.0/24"); its length ends on
	// a DNS label (record.CutKey).
	Prefix string `json:"prefix"`
	// NS are the name servers the cut refers to.
	NS []DelegationNS `json:"ns,omitempty"`
	// By is the token that asked for the change.
	By string `json:"by,omitempty"`
}

// DelegationNS is one name server of a DelegationBody.
type DelegationNS struct {
	// Name is the server's host name.
	Name string `json:"name"`
	// Addrs are glue addresses, for a name inside the wlns zone.
	Addrs []string `json:"addrs,omitempty"`
}

func init() {
	register(Kind{Type: DelegationPut, Since: 5, Body: bodyOf[DelegationBody]()})
	register(Kind{Type: DelegationDelete, Since: 5, Body: bodyOf[DelegationBody]()})
}
