// Package qname owns the wlns query-name protocol (docs/query-format.md):
// building the relay, sender and VERP names a client asks, and the
// allocation-free pieces the server uses to read them back — a question name
// read off the wire and lower-cased (Name), and the reversed IP under a zone
// label (ParseRevIP).
//
// It is pure: no I/O, no index, no DNS server. It imports only record and
// the standard library; zone and the CLI import it.
package qname
