// Package activity counts the DNS answers each entity (relay or group)
// gets, per day, on one node: the zone calls Count for every positive
// answer, and the web console draws the last Days days, summed over the
// cluster's nodes.
//
// Counting is one atomic add into a slot of a flat table indexed by entity
// ID: no lock, no allocation, no shared counter that every query writes.
// Fold, called about once a minute off the DNS path, grows the table when
// new entities appear and, at the turn of a UTC day, turns the closed day's
// table into a sorted (entity, count) list of the entities that were
// answered, 8 bytes each. The counts live in memory only: a restarted node
// starts with none, and each node counts what it answered itself.
//
// It must not import the store, HTTP or anything the DNS path must not.
package activity
