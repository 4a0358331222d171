package fsm

import (
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// The kinds' repeated hooks: whether a replayed spool entry's rejection
// only says that an earlier attempt of it committed (Store.alreadyApplied
// says when each applies).

// entityRepeated is entity.put's repeated hook: a create refused as a
// Conflict by the entity an earlier attempt made.
func entityRepeated(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.EntityBody
	return unknown && rej.Code == command.Conflict && e.DecodeBody(&b) == nil && b.ID == 0 && entityExists(f.ix.Load(), &b)
}

// batchRepeated is a Batch's repeated hook: a list report's batch (the
// report with the VERP challenge's open) refused as NotFound.
func batchRepeated(_ *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.BatchBody
	return unknown && rej.Code == command.NotFound && e.DecodeBody(&b) == nil &&
		slices.ContainsFunc(b.Commands, func(c command.Envelope) bool { return c.Type == command.ChallengeReport })
}

// confirmRepeated and reportRepeated are the repeated hooks of the
// challenge answers (answered).
func confirmRepeated(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.ChallengeConfirmBody
	ok := e.DecodeBody(&b) == nil
	return answered(f, unknown, rej, ok, b.TokenHash, record.ChallengeConfirmed)
}

func reportRepeated(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.ChallengeReportBody
	ok := e.DecodeBody(&b) == nil
	return answered(f, unknown, rej, ok, b.TokenHash, reportStates[b.Report])
}

// reportStates is the state each report leaves its challenge in.
var reportStates = map[string]record.ChallengeState{"forgery": record.ChallengeForged, "list": record.ChallengeList}

// answered decides a challenge answer refused as NotFound: it was given
// by an earlier attempt (unknown), or meanwhile by another request (the
// body decoded, ok, and the token is in the state want): the token
// confirmed, for a confirmation, or reported the same way, for a report.
// That happens when a sender answers on a mirror cut off from the cluster
// (the answer is spooled) and again on another (it commits): what the
// sender asked for holds, so the entry is done, not failed. An answer that
// conflicts (a confirmation of a token reported as forged) still fails.
func answered(f *FSM, unknown bool, rej *command.Rejection, ok bool, hash string, want record.ChallengeState) bool {
	if rej.Code != command.NotFound {
		return false
	}
	if unknown {
		return true
	}
	c := f.Challenge(hash)
	return ok && c != nil && want != "" && c.State == want
}

// entityExists reports whether v holds an entity like the one b creates:
// same kind and group name, owning every prefix of b.
func entityExists(v *index.View, b *command.EntityBody) bool {
	want, rej := entityFromBody(b)
	if rej != nil {
		return false
	}
	var got *record.Entity
	if len(want.Prefixes) > 0 {
		got = v.PrefixOwner(want.Prefixes[0])
	} else {
		v.EachEntity(func(e index.EntityRef) bool {
			if e.Group() && groupKey(e.Name()) == groupKey(want.Name) {
				got = e.Entity()
			}
			return got == nil
		})
	}
	if got == nil || got.Group != want.Group || groupKey(got.Name) != groupKey(want.Name) {
		return false
	}
	for _, p := range want.Prefixes {
		if o := v.PrefixOwner(p); o == nil || o.ID != got.ID {
			return false
		}
	}
	return true
}
