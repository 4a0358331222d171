package command

// ZoneSerial (envelope version 6) is made by the store, never accepted
// from outside. Applying it switches the zone serial from the time of the
// latest command (what every earlier build showed, and what a snapshot of
// theirs implies) to counting answer-changing log entries, and raises the
// serial past Above when it is not already past it. The switch is a log
// entry so that every mirror makes it at the same index, whatever
// snapshot it started from.
const ZoneSerial Type = "zone.serial"

// ZoneSerialBody is the body of ZoneSerial.
type ZoneSerialBody struct {
	// Above, when set, is a serial the zone must pass (RFC 1982
	// arithmetic): the serial a cluster showed before a backup was
	// restored into it, which its secondaries may hold.
	Above uint32 `json:"above,omitempty"`
}

func init() {
	register(Kind{Type: ZoneSerial, Since: 6, Body: bodyOf[ZoneSerialBody]()})
}
