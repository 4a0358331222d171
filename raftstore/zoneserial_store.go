package raftstore

import (
	"context"
	"fmt"
	"time"

	"github.com/wlns/wlns/command"
)

// countSerial proposes the zone.serial entry that switches the zone
// serial to counting (zoneserial.go), when the applied state does not
// count yet: the leader does so before its first proposal, so every entry
// a node of this build proposes is counted. One proposal at a time: the
// first writes of a new leader wait for the one in flight (within ctx)
// rather than each proposing its own (32 concurrent first writes made 32
// entries). Two leaders in turn may still both propose it; the second
// changes nothing. A failure is returned, and the caller's own proposal
// then meets the same cluster.
func (s *Store) countSerial(ctx context.Context) error {
	if s.fsm.SerialCounts() {
		return nil
	}
	select {
	case s.serialOne <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the zone serial switch in flight: %w", ctx.Err())
	}
	defer func() { <-s.serialOne }()
	if s.fsm.SerialCounts() { // the one in flight switched it
		return nil
	}
	return s.proposeSerial(ctx, command.ZoneSerialBody{})
}

// proposeSerial proposes a zone.serial command with body b on this node,
// the leader.
func (s *Store) proposeSerial(ctx context.Context, b command.ZoneSerialBody) error {
	e, err := command.New(command.ZoneSerial, time.Now().Unix(), "", b)
	if err != nil {
		return err
	}
	raw, err := e.Encode()
	if err != nil {
		return err
	}
	res, _, err := s.group.apply(ctx, e, raw)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		return fmt.Errorf("switching the zone serial to counting changes: %w", err)
	}
	return nil
}
