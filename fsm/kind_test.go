package fsm

import (
	"slices"
	"testing"

	"github.com/wlns/wlns/command"
)

// TestKinds_EveryCommandKindIsApplied: the wire's registry (command.Kind)
// and the state machine's (kind) hold the same types, so a kind added to
// one and forgotten in the other fails here, not as an "unknown command
// type" rejection on every replica.
func TestKinds_EveryCommandKindIsApplied(t *testing.T) {
	var ours []command.Type
	for ty := range kinds {
		ours = append(ours, ty)
	}
	slices.Sort(ours)
	if wire := command.Types(); !slices.Equal(wire, ours) {
		t.Fatalf("command kinds %v, state machine kinds %v", wire, ours)
	}
}

// TestKinds_UnregisteredTypeIsRefusedAndRejected: a type no kind
// registers never reaches the log, and inside a log entry it is a
// deterministic Invalid rejection.
func TestKinds_UnregisteredTypeIsRefusedAndRejected(t *testing.T) {
	e := env(t, "pair.rename", t0, "", command.PairBody{Sender: "a@b.example"})
	if err := CheckProposal(e); err == nil {
		t.Fatal("checkProposal accepted an unknown type")
	}
	a := &applier{txn: newHarness(t).f.ix.Begin()}
	if r := a.apply(e); r.Err == nil || r.Err.Code != command.Invalid {
		t.Fatalf("apply = %+v, want an Invalid rejection", r)
	}
}
