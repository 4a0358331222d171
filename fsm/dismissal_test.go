package fsm

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// threeRelays registers 192.0.2.1–3 as lone relays (entities 1–3).
func threeRelays(h *fsmHarness) {
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		h.ok(command.EntityPut, command.EntityBody{Prefixes: []string{ip}})
	}
}

func TestFSM_SuggestionDismissKeptReplacedAndPruned(t *testing.T) {
	h := newHarness(t)
	threeRelays(h)
	if r := h.ok(command.SuggestionDismiss, command.SuggestionDismissBody{Entities: []uint64{2, 1}, Shared: 12, By: "ops"}); !r.Created {
		t.Error("first dismissal not reported created")
	}
	h.now++
	if r := h.ok(command.SuggestionDismiss, command.SuggestionDismissBody{Entities: []uint64{1, 2}, Shared: 20, By: "pm"}); r.Created {
		t.Error("dismissing the same entities again reported created")
	}
	h.ok(command.SuggestionDismiss, command.SuggestionDismissBody{Entities: []uint64{3, 2}, Shared: 11})
	want := []record.Dismissal{
		{Entities: []uint64{1, 2}, Shared: 20, By: "pm", Time: t0 + 1},
		{Entities: []uint64{2, 3}, Shared: 11, Time: t0 + 1},
	}
	if got := h.f.Dismissals(); !reflect.DeepEqual(got, want) {
		t.Fatalf("dismissals %+v, want %+v", got, want)
	}
	h.ok(command.EntityDelete, command.EntityBody{ID: 3})
	h.ok(command.SuggestionDismiss, command.SuggestionDismissBody{Entities: []uint64{1, 2}, Shared: 20, By: "pm"})
	if got := h.f.Dismissals(); len(got) != 1 || got[0].Shared != 20 {
		t.Fatalf("after entity 3 was deleted: %+v, want only {1,2}", got)
	}
}

func TestFSM_SuggestionDismissRefusals(t *testing.T) {
	h := newHarness(t)
	threeRelays(h)
	tests := []struct {
		name string
		body command.SuggestionDismissBody
		code command.Code
	}{
		{"one entity", command.SuggestionDismissBody{Entities: []uint64{1}}, command.Invalid},
		{"the same entity twice", command.SuggestionDismissBody{Entities: []uint64{1, 1}}, command.Invalid},
		{"an entity that does not exist", command.SuggestionDismissBody{Entities: []uint64{1, 9}}, command.NotFound},
		{"negative evidence", command.SuggestionDismissBody{Entities: []uint64{1, 2}, Shared: -1}, command.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(command.SuggestionDismiss, tt.body)
			if r.Err == nil || r.Err.Code != tt.code {
				t.Fatalf("result %+v, want %s", r, tt.code)
			}
		})
	}
	if got := h.f.Dismissals(); len(got) != 0 {
		t.Fatalf("refused dismissals were kept: %+v", got)
	}
}

func TestSnapshot_DismissalsRoundTrip(t *testing.T) {
	h := newHarness(t)
	threeRelays(h)
	h.ok(command.SuggestionDismiss, command.SuggestionDismissBody{Entities: []uint64{1, 2, 3}, Shared: 40, By: "console:pm"})
	snap := persist(t, h.f)
	b := NewFSM(nil, nil)
	if _, err := b.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if again := persist(t, b); !bytes.Equal(snap, again) {
		t.Fatal("persist after restore differs")
	}
	want := []record.Dismissal{{Entities: []uint64{1, 2, 3}, Shared: 40, By: "console:pm", Time: t0}}
	if got := b.Dismissals(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
}
