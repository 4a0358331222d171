// Package zone is the wlns DNS server: it answers the relay, sender and VERP
// zones (docs/query-format.md) from the current index.View, over UDP (a fixed
// set of reader goroutines, batched recvmmsg/sendmmsg on Linux) and TCP
// (RFC 7766, pipelined).
//
// The core is Responder.Respond, a pure, allocation-free function from a
// request packet to a response packet; both transports call it, so they
// answer identically. The package reads the index's read side only. It must
// not import raftstore, admin or anything that writes: the only state it
// changes is a record's local seen mark (index.Ref.MarkSeen,
// index.EntityRef.MarkSeen for entities) and, when configured, the count
// of answers per entity (activity.Counter.Count, one atomic add).
package zone
