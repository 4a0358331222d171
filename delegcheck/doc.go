// Package delegcheck finds lame delegations: each node asks the name
// servers of every delegated prefix (index.View.Delegations) for the SOA of
// the prefix's cut in the relay, sender and VERP trees and expects an
// authoritative answer with that SOA. The latest result per delegation is
// kept in memory for the API and `wlns delegation list`, and counted in
// the wlns_delegation_* metrics.
//
// It reads the index's read side and talks DNS to the delegated servers;
// it never writes the store: lameness is what this node sees, not
// replicated state (a server may be reachable from one mirror and not
// from another).
package delegcheck
