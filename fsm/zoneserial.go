package fsm

import (
	"errors"
	"math"

	"github.com/wlns/wlns/command"
)

// The zone serial (the SOA serial, and the serial secondaries transfer) is
// part of the replicated state, a function of the log alone, so every
// mirror shows the same serial for the same content, whatever snapshot it
// started from — what a secondary that asks another mirror for IXFR from
// its serial relies on.
//
// Until the log holds a zone.serial entry the serial is the time of the
// latest command (the legacy rule: what earlier builds showed, and all a
// snapshot of theirs, or any snapshot without the serial record, says).
// The legacy rule needs no history, so a mirror that restored an old
// snapshot and one that replayed the log agree. From the zone.serial entry
// on (the leader proposes it before its first proposal, Store.countSerial)
// the serial counts: each log entry that changed an answer (a record, its
// text, the zone's own names, a delegation) moves it to the entry's time,
// or one past the previous serial when that time is not later (several
// changes in one second, a spooled write committed with its older time).
// Seen reports, tokens, challenge bookkeeping and rejected or duplicate
// commands do not move it: secondaries are not sent a new version where no
// answer changed. Under a steady rate of more than one changing entry a
// second the serial runs ahead of the clock by the excess; the clock
// catches up when writes calm down.
//
// Serials compare in RFC 1982 arithmetic (32 bits, wrapping): the serial
// after 4294967295 is 0, which secondaries take as newer; the clock's
// seconds wrap the same way in 2106. A serial never moves by 2^31 or more
// at once (a time that far ahead, or behind, counts one step instead).

// tagZoneSerial holds a counting zone serial (format 5). A snapshot
// without it is under the legacy rule.
const tagZoneSerial byte = tagFlatArena + 1

// zoneSerial is the zone serial state of the FSM.
type zoneSerial struct {
	n        uint32
	counting bool
}

// legacySerial is the legacy serial of a state whose latest command
// carried time t (Unix seconds): 1 before any command.
func legacySerial(t int64) uint32 {
	return uint32(min(max(t, 1), math.MaxUint32))
}

// SerialBefore reports whether serial a is before b in RFC 1982
// arithmetic.
func SerialBefore(a, b uint32) bool {
	return a != b && b-a < 1<<31
}

// after is the serial state once a log entry whose latest command time is
// t was applied; changed says whether it changed an answer, maxT is the
// latest command time applied so far.
func (z zoneSerial) after(changed bool, t, maxT int64) zoneSerial {
	switch {
	case !z.counting:
		z.n = legacySerial(maxT)
	case !changed:
	case SerialBefore(z.n, uint32(t)):
		z.n = uint32(t)
	default:
		z.n++
	}
	return z
}

// apply applies a zone.serial command: counting from now on, and past
// b.Above when it is set and not already passed.
func (z zoneSerial) apply(b command.ZoneSerialBody) zoneSerial {
	z.counting = true
	if b.Above != 0 && !SerialBefore(b.Above, z.n) {
		z.n = b.Above + 1
	}
	return z
}

// changesAnswers reports whether an applied command can have changed a DNS
// answer: it succeeded, was not a duplicate, and its kind writes records,
// their texts, the zone's own names or delegations. Seen reports, tokens,
// the challenge bookkeeping and zone.serial cannot (kind.quiet); every
// other kind, and any kind added later, counts as a change.
func changesAnswers(k command.Type, r command.Result) bool {
	if r.Err != nil || r.Duplicate {
		return false
	}
	kd := kinds[k]
	return kd == nil || !kd.quiet
}

func init() {
	registerKind(command.ZoneSerial, kind{
		apply: notInBatch("a zone serial command cannot be part of a batch"),
		top: func(f *FSM, _ *applier, e *command.Envelope) command.Result {
			var b command.ZoneSerialBody
			if rej := decodeBody(e, &b); rej != nil {
				return command.Result{Err: rej}
			}
			f.zs = f.zs.apply(b)
			return command.Result{}
		},
		check: func(*command.Envelope, bool) error {
			return errors.New("zone serial entries are made by the store, not proposed")
		},
		quiet: true,
	})
}

// zoneSerialRecord writes the serial when it counts.
func (sw *snapWriter) zoneSerialRecord(z zoneSerial) {
	if !z.counting {
		return
	}
	sw.e.uvarint(uint64(z.n))
	sw.record(tagZoneSerial)
}

// SerialCounts reports whether the applied state's zone serial counts
// changes (a zone.serial entry was applied).
func (f *FSM) SerialCounts() bool { return f.counting.Load() }
