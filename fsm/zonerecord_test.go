package fsm

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// zoneRecordStrings lists the view's zone records as "name type ttl data".
func zoneRecordStrings(f *FSM) string {
	var b strings.Builder
	f.Index().Load().ZoneRecords().Each(func(r *record.ZoneRecord) bool {
		b.WriteString(r.Name + " " + r.Type + " " + string(rune('0'+r.TTL/100)) + " " + r.Data + "\n")
		return true
	})
	return b.String()
}

func TestFSM_ZoneRecords(t *testing.T) {
	h := newHarness(t)
	put := func(name, typ, data string, ttl uint32) command.ZoneRecordBody {
		return command.ZoneRecordBody{Name: name, Type: typ, Data: data, TTL: ttl}
	}
	if r := h.ok(command.ZoneRecordPut, put("NS1", "a", "192.0.2.53", 0)); !r.Created {
		t.Error("first put: Created false")
	}
	h.ok(command.ZoneRecordPut, put("@", "MX", "10 mx", 0))
	h.ok(command.ZoneRecordPut, put("ns1", "A", "192.0.2.54", 300))
	if r := h.ok(command.ZoneRecordPut, put("ns1", "A", "192.0.2.54", 300)); r.Created {
		t.Error("refresh: Created true")
	}
	// The TTL of the last put is the TTL of the whole RRset.
	if got, want := zoneRecordStrings(h.f), "@ MX 0 10 mx\nns1 A 3 192.0.2.53\nns1 A 3 192.0.2.54\n"; got != want {
		t.Fatalf("records:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range []struct {
		typ  command.Type
		body command.ZoneRecordBody
		code command.Code
	}{
		{command.ZoneRecordPut, put("x.relay", "A", "192.0.2.1", 0), command.Invalid},
		{command.ZoneRecordPut, put("ns1", "CNAME", "x", 0), command.Invalid},
		{command.ZoneRecordPut, put("ns1", "A", " ", 0), command.Invalid},
		{command.ZoneRecordDelete, put("ns1", "", "192.0.2.53", 0), command.Invalid},
		{command.ZoneRecordDelete, put("ns2", "", "", 0), command.NotFound},
		{command.ZoneRecordDelete, put("ns1", "AAAA", "", 0), command.NotFound},
	} {
		if r := h.do(c.typ, c.body); r.Err == nil || r.Err.Code != c.code {
			t.Errorf("%s %+v: %v, want %s", c.typ, c.body, r.Err, c.code)
		}
	}
	h.ok(command.ZoneRecordDelete, put("ns1", "A", "192.0.2.53", 0))
	if got, want := zoneRecordStrings(h.f), "@ MX 0 10 mx\nns1 A 3 192.0.2.54\n"; got != want {
		t.Fatalf("after deleting one record:\n%s\nwant:\n%s", got, want)
	}
	h.ok(command.ZoneRecordDelete, put("ns1", "", "", 0))
	if got, want := zoneRecordStrings(h.f), "@ MX 0 10 mx\n"; got != want {
		t.Fatalf("after deleting a name:\n%s\nwant:\n%s", got, want)
	}
}

func TestFSM_ZoneRecordsInFailedBatchAreUndone(t *testing.T) {
	h := newHarness(t)
	r := h.do(command.Batch, command.BatchBody{Commands: []command.Envelope{
		*env(t, command.ZoneRecordPut, t0, "", command.ZoneRecordBody{Name: "ns1", Type: "A", Data: "192.0.2.53"}),
		*env(t, command.ZoneRecordDelete, t0, "", command.ZoneRecordBody{Name: "nope"}),
	}})
	if r.Err == nil || zoneRecordStrings(h.f) != "" {
		t.Fatalf("batch: %v, records %q; want a rejection and none", r.Err, zoneRecordStrings(h.f))
	}
}

func TestSnapshot_ZoneRecordsRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.ok(command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.1"}, Registered: true})
	h.ok(command.ZoneRecordPut, command.ZoneRecordBody{Name: "ns1", Type: "A", Data: "192.0.2.53", TTL: 600})
	h.ok(command.ZoneRecordPut, command.ZoneRecordBody{Name: "@", Type: "TXT", Data: `"v=spf1 -all"`})
	snap := persist(t, h.f)
	if f := snap[len(snapMagic)]; f != snapVersion {
		t.Fatalf("with zone records: format %d, want %d", f, snapVersion)
	}
	b := NewFSM(nil, nil)
	if _, err := b.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if got, want := zoneRecordStrings(b), zoneRecordStrings(h.f); got != want || !bytes.Equal(persist(t, b), snap) {
		t.Fatalf("restored records:\n%s\nwant:\n%s", got, want)
	}
	snap[len(snapMagic)] = 3 // zone records under a format-3 header
	if _, err := NewFSM(nil, nil).Restore(io.NopCloser(bytes.NewReader(snap))); err == nil {
		t.Fatal("zone records restored from a format-3 snapshot")
	}
}
