package fsm

import (
	"testing"

	"github.com/wlns/wlns/command"
)

// TestSetGroup_ABatchRejectedAfterItsGroupsLeavesTheirNamesFree: a batch
// whose group puts apply before a later command rejects it leaves the
// group names as they were (the batch wrote its own copy of the map), and
// a batch that applies keeps every name it made, renames included.
func TestSetGroup_ABatchRejectedAfterItsGroupsLeavesTheirNamesFree(t *testing.T) {
	h := newHarness(t)
	g := h.ok(command.EntityPut, command.EntityBody{Name: "kept", Group: true, Prefixes: []string{"192.0.2.0/28"}})
	group := func(id uint64, name, prefix string) command.Envelope {
		return *env(t, command.EntityPut, 0, "", command.EntityBody{ID: id, Name: name, Group: true, Prefixes: []string{prefix}})
	}
	bad := *env(t, command.EntityDelete, 0, "", command.EntityBody{ID: 999})
	rejected := command.BatchBody{Commands: []command.Envelope{
		group(0, "a", "198.51.100.0/28"), group(g.ID, "renamed", "192.0.2.0/28"), group(0, "b", "198.51.100.16/28"), bad}}
	if r := h.apply(env(t, command.Batch, h.now, "", rejected))[0]; r.Err == nil {
		t.Fatal("a batch ending in a delete of no entity applied")
	}
	applied := command.BatchBody{Commands: []command.Envelope{
		group(0, "a", "198.51.100.0/28"), group(0, "b", "198.51.100.16/28"), group(0, "kept2", "198.51.100.32/28")}}
	if r := h.apply(env(t, command.Batch, h.now, "", applied))[0]; r.Err != nil {
		t.Fatalf("the names a rejected batch used are still taken: %v", r.Err)
	}
	taken := command.EntityBody{Name: "KEPT", Group: true, Prefixes: []string{"203.0.113.0/28"}}
	if r := h.apply(env(t, command.EntityPut, h.now, "", taken))[0]; r.Err == nil || r.Err.Code != command.Conflict {
		t.Errorf("a group named like the one the rejected batch renamed: %+v, want a conflict", r.Err)
	}
	for _, name := range []string{"a", "b", "kept2"} {
		dup := command.EntityBody{Name: name, Group: true, Prefixes: []string{"203.0.113.64/28"}}
		if r := h.apply(env(t, command.EntityPut, h.now, "", dup))[0]; r.Err == nil || r.Err.Code != command.Conflict {
			t.Errorf("group name %q after the applied batch: %+v, want a conflict", name, r.Err)
		}
	}
}
