// Package clustertls makes and loads the certificates of the inter-node
// port: a small ECDSA P-256 cluster CA, node certificates that carry the
// node's Raft ID as a URI SAN (wlns-node:ID) plus its IP and DNS names, and
// the mutual TLS 1.3 configurations both ends of a node-to-node connection
// use.
//
// It owns file names, key handling and certificate checks. It must not
// open connections or know about Raft, HTTP or DNS.
package clustertls
