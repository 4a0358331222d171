// Package rbldnsd reads and writes rbldnsd(8) datasets, so that DNSBL
// operators can serve wlns' relay zone with the rbldnsd they run today and
// bring their own lists in.
//
// Flatten turns relay entities (nested prefixes, resolved by longest-prefix
// match as the wlns responder resolves them) into disjoint listed prefixes;
// Write prints them as an ip4set or ip6trie dataset whose entries carry the
// A value and TXT of wlns' answers, so rbldnsd answers the same A and TXT
// for the same question. Parse reads the address entries of ip4set,
// ip4trie, ip4tset, ip6trie and ip6tset datasets (their values, defaults
// and special lines are not imported: the whitelist has its own codes).
//
// The package does no I/O of its own beyond the readers and writers it is
// given, and imports only the standard library and record.
package rbldnsd
