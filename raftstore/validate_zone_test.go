package raftstore

import (
	"testing"

	"github.com/wlns/wlns/command"
)

func TestStoreApply_RefusesZoneRecordTheServerCannotPack(t *testing.T) {
	for _, body := range []command.ZoneRecordBody{
		{Name: "ns1", Type: "A", Data: "2001:db8::1"},
		{Name: "@", Type: "MX", Data: "mx"},
		{Name: "@", Type: "TXT", Data: `"a" ; comment`},
	} {
		if err := checkProposal(env(t, command.ZoneRecordPut, t0, "", body)); err == nil {
			t.Errorf("%+v accepted", body)
		}
	}
	if err := checkProposal(env(t, command.ZoneRecordPut, t0, "", command.ZoneRecordBody{Name: "ns1", Type: "A", Data: "192.0.2.1"})); err != nil {
		t.Errorf("a good record refused: %v", err)
	}
}
