package raftstore

import (
	"fmt"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zonerec"
)

// checkProposal is fsm.CheckProposal with the store's own rule: a zone.put's
// RDATA parses (checkZoneRecords).
func checkProposal(e *command.Envelope) error {
	if err := fsm.CheckProposal(e); err != nil {
		return err
	}
	return checkZoneRecords(e)
}

// checkZoneRecords checks the RDATA of a zone.put, alone or in a batch,
// with the zone's parser (zonerec.Check), which the state machine does
// not import: it brings the DNS library and with it the network. Every
// build's state machine then applies the record without parsing it.
func checkZoneRecords(e *command.Envelope) error {
	switch e.Type {
	case command.ZoneRecordPut:
		var b command.ZoneRecordBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		return zonerec.Check(&record.ZoneRecord{Name: b.Name, Type: b.Type, TTL: b.TTL, Data: b.Data})
	case command.Batch:
		var b command.BatchBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		for i := range b.Commands {
			if err := checkZoneRecords(&b.Commands[i]); err != nil {
				return fmt.Errorf("batch command %d: %w", i, err)
			}
		}
	}
	return nil
}
