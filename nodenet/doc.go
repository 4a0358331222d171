// Package nodenet is the inter-node port of a wlns cluster: one TLS 1.3
// listener with mutual certificate checks (clustertls) that carries both
// Raft's transport and a small internal RPC (join, write forwarding,
// member removal, node status, the leader's read index, the web console's
// per-node statistics). The first byte of every connection,
// written after the handshake, says which of the two it is.
//
// It owns connection handling and the RPC wire format. It must not
// interpret commands or touch Raft state: the RPC calls a Handler the
// store provides, and Raft gets connections through the raft.StreamLayer
// this package implements.
package nodenet
