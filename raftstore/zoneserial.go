package raftstore

import (
	"math"

	"github.com/wlns/wlns/command"
)

// The zone serial (the SOA serial, and the serial secondaries transfer) is
// part of the replicated state: every applied command moves it forward to
// the command's time, and a command that can change an answer moves it at
// least one past the previous serial (several changes in one second, a
// spooled write committed with its original, older time). So the same log
// prefix gives the same serial on every mirror, and no two states that
// answer differently share one — what a secondary that asks another mirror
// for IXFR from its serial relies on. Under a steady rate of more than one
// change a second the serial runs ahead of the clock by the excess, and
// the clock catches up when writes calm down.

// tagZoneSerial holds the zone serial (format 5). It is written only when
// the serial is not the latest command time; without it the serial is
// that time.
const tagZoneSerial byte = tagFlatArena + 1

// zoneSerial is the serial of a state whose latest command carried time t
// (Unix seconds): 1 before any command.
func zoneSerial(t int64) uint32 {
	return uint32(min(max(t, 1), math.MaxUint32))
}

// nextZoneSerial is the serial after applying a command of kind k with
// time t to a state at serial prev.
func nextZoneSerial(prev uint32, k command.Type, t int64) uint32 {
	switch s := zoneSerial(t); {
	case s > prev:
		return s
	case changesAnswers(k):
		return prev + 1
	}
	return prev
}

// changesAnswers reports whether a command kind can change a DNS answer
// (a record, its text or the zone's own names). Seen reports, tokens and
// the challenge bookkeeping cannot (kind.quiet); every other kind, and any
// kind added later, counts as a change.
func changesAnswers(k command.Type) bool {
	kd := kinds[k]
	return kd == nil || !kd.quiet
}

// zoneSerialFormat is the snapshot format the serial needs: 5 when it is
// not the latest command time, else 0 (no constraint).
func zoneSerialFormat(s *fsmSnapshot) uint64 {
	if max(s.zs, 1) != zoneSerial(s.maxT) {
		return 5
	}
	return 0
}

// zoneSerialRecord writes the serial when zoneSerialFormat needs it.
func (sw *snapWriter) zoneSerialRecord(s *fsmSnapshot) {
	if zoneSerialFormat(s) == 0 {
		return
	}
	sw.e.uvarint(uint64(s.zs))
	sw.record(tagZoneSerial)
}
