// Package childzone runs a postmaster's own wlns node (`wlns serve
// --serve-only`): it serves only the zones below a delegation's three cuts
// (2.0.192.relay.<apex>, …sender…, …verp…), authoritatively, as a
// secondary of the whitelist cluster's transfer port. It pulls each cut
// zone by AXFR with the postmaster's TSIG key (a key the cluster scopes to
// their prefix: it opens no other zone), follows NOTIFY, keeps a copy on
// disk that it serves at once after a restart, and stops answering
// (SERVFAIL) a zone it could not refresh for the SOA expire time. It is
// never a Raft member: it holds its prefix's records and nothing else.
//
// Answers follow the cluster's: exact names and wildcards from the
// transferred records, and for names the zone does not hold the cluster's
// rules (a well-formed but incomplete reversed address is NODATA, RFC 8020;
// a sender or VERP name under an address that has an entity is NODATA)
// rather than a plain NXDOMAIN. See docs/delegation.md.
package childzone
