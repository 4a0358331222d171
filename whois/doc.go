// Package whois answers RFC 3912 WHOIS queries about the relay registry on
// a node: an IP address or a relay group's name gives the entity it
// belongs to, its member prefixes, registered contact (as the operator's
// privacy setting allows) and PTR, its dates, and the delegations of its
// address space to a postmaster's own name servers.
//
// It reads the index's read side only (a View per query, as the DNS path
// does), never the store or the network beyond its own listener. The
// server bounds connections, the query's length and the time to send it;
// every connection answers one query and is closed, as RFC 3912 says.
package whois
