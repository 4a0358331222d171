package fsm

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wlns/wlns/command"
)

func TestFSM_GroupAppliesAsItsCommandsOneEntryEach(t *testing.T) {
	cmds := func(tb testing.TB) []*command.Envelope {
		return []*command.Envelope{
			env(tb, command.EntityPut, t0, "r1", command.EntityBody{Name: "g", Group: true, Prefixes: []string{"192.0.2.0/24"}}),
			env(tb, command.PairPut, t0+1, "r2", command.PairBody{Sender: "a@example.org", IP: "192.0.2.9"}),
			env(tb, command.PairPut, t0+2, "r2", command.PairBody{Sender: "b@example.org", IP: "192.0.2.9"}), // a repeated ReqID
			env(tb, command.PairDelete, t0+3, "", command.PairBody{Sender: "nobody@example.org", IP: "192.0.2.9"}),
			env(tb, command.VerpPut, t0+4, "r3", command.VerpBody{Domain: "lists.example.org", IP: "198.51.100.1"}),
		}
	}
	one := newHarness(t)
	var want []command.Result
	for _, e := range cmds(t) {
		want = append(want, one.apply(e)[0])
	}
	grouped := newHarness(t)
	var body command.GroupBody
	for _, e := range cmds(t) {
		body.Commands = append(body.Commands, *e)
	}
	grouped.idx = one.idx - 1 // the same last log index, so the same View serial
	got := grouped.apply(env(t, command.Group, t0+4, "", body))[0]
	if fmt.Sprint(got.Results) != fmt.Sprint(want) {
		t.Errorf("group results %+v\nwant one entry each %+v", got.Results, want)
	}
	if !got.Results[2].Duplicate || got.Results[3].Err == nil || got.Results[3].Err.Code != command.NotFound {
		t.Errorf("want the repeated ReqID skipped and the missing pair not_found: %+v", got.Results)
	}
	if a, b := persist(t, one.f), persist(t, grouped.f); !bytes.Equal(a, b) {
		t.Errorf("snapshot after the group (%d bytes) differs from one entry each (%d bytes)", len(b), len(a))
	}
}
