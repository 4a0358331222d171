package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// spooledNotice is the answer to a write the node accepted into its local
// spool because the cluster has no quorum (HTTP 202, "spooled": true). It
// travels as an error so that no command prints the empty record it would
// otherwise decode; run prints it on stdout and exits 0: the write is
// accepted and will be committed once the quorum is back.
type spooledNotice struct {
	RequestID string `json:"request_id"`
	Type      string `json:"type"`
	Pending   int    `json:"pending"`
}

// Error implements error with the message the user sees.
func (s *spooledNotice) Error() string {
	return fmt.Sprintf("accepted but not committed yet: the cluster has no quorum now, so the node spooled the %s as request %s (%d pending); it is committed once the quorum is back — `wlns spool` lists what is pending", s.Type, s.RequestID, s.Pending)
}

// spooled recognises a spooled answer, or returns nil.
func spooled(status int, raw []byte) *spooledNotice {
	if status != http.StatusAccepted {
		return nil
	}
	var body struct {
		Spooled bool `json:"spooled"`
		spooledNotice
	}
	if json.Unmarshal(raw, &body) != nil || !body.Spooled {
		return nil
	}
	return &body.spooledNotice
}
