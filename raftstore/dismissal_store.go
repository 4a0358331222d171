package raftstore

import "github.com/wlns/wlns/record"

// Dismissals returns the dismissed suggestions, sorted by their entities.
func (s *Store) Dismissals() []record.Dismissal { return s.fsm.Dismissals() }
