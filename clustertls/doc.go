// Package clustertls makes and loads the certificates of the inter-node
// port: a small ECDSA P-256 cluster CA, node certificates that carry the
// node's Raft ID as a URI SAN (wlns-node:ID) plus its IP and DNS names, and
// the mutual TLS 1.3 configurations both ends of a node-to-node connection
// use.
//
// An Identity reloads its files when they change (Reload, or Watch every
// few seconds), so a rotated certificate is used by new connections
// without a restart.
//
// It owns file names, key handling, certificate checks and reloading. It
// must not open connections or know about Raft, HTTP or DNS.
package clustertls
