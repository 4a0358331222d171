package fsm

import (
	"testing"

	"github.com/wlns/wlns/command"
)

// TestRepeated_Rule: which rejections of a replayed spool entry only say
// that an earlier attempt of it committed (Store.alreadyApplied).
func TestRepeated_Rule(t *testing.T) {
	h := newHarness(t)
	h.ok(command.EntityPut, command.EntityBody{Group: true, Name: "UMKC", Prefixes: []string{"198.51.100.0/24", "203.0.113.5"}})
	type entry struct {
		e       *command.Envelope
		unknown bool
	}
	spooled := func(unknown bool, ty command.Type, body any) entry { return entry{env(t, ty, t0, "x", body), unknown} }
	group := command.EntityBody{Group: true, Name: "umkc", Prefixes: []string{"203.0.113.5", "198.51.100.0/24"}}
	other := command.EntityBody{Group: true, Name: "other", Prefixes: []string{"198.51.100.0/24"}}
	conflict := command.Reject(command.Conflict, "taken")
	notFound := command.Reject(command.NotFound, "no such token")
	for _, tc := range []struct {
		name string
		e    entry
		rej  *command.Rejection
		want bool
	}{
		{"entity created by an earlier attempt", spooled(true, command.EntityPut, group), conflict, true},
		{"entity never proposed before", spooled(false, command.EntityPut, group), conflict, false},
		{"prefix taken by someone else", spooled(true, command.EntityPut, other), conflict, false},
		{"entity update conflict", spooled(true, command.EntityPut, command.EntityBody{ID: 1, Group: true, Name: "umkc"}), conflict, false},
		{"confirm used by an earlier attempt", spooled(true, command.ChallengeConfirm, command.ChallengeConfirmBody{TokenHash: "ab"}), notFound, true},
		{"confirm never proposed: token expired", spooled(false, command.ChallengeConfirm, command.ChallengeConfirmBody{TokenHash: "ab"}), notFound, false},
		{"report used by an earlier attempt", spooled(true, command.ChallengeReport, command.ChallengeReportBody{TokenHash: "ab"}), notFound, true},
		{"pair rejection is real", spooled(true, command.PairPut, command.PairBody{Sender: "a@b.example", Entity: 9}), notFound, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.f.Repeated(tc.e.e, tc.e.unknown, tc.rej); got != tc.want {
				t.Fatalf("Repeated = %v, want %v", got, tc.want)
			}
		})
	}
}
