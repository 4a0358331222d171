package admin

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
)

// ImportProgress is one line of POST /v1/import's answer when the client
// asks for progress (Accept: application/x-ndjson): a batch's outcome as
// soon as it is known, and at the end the whole report. A client whose
// connection is cut still knows which batches were applied.
type ImportProgress struct {
	// Batch is the outcome of one batch, in input order.
	Batch *ImportBatch `json:"batch,omitempty"`
	// Report is the last line: the same report as without progress.
	Report *ImportReport `json:"report,omitempty"`
}

// wantsProgress reports whether the client asked for the NDJSON progress
// answer.
func wantsProgress(r *http.Request) bool {
	for _, a := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(a)); err == nil && mt == "application/x-ndjson" {
			return true
		}
	}
	return false
}

// progress writes ImportProgress lines while the request body is still
// being read (HTTP/1.1 full duplex). A nil *progress sends nothing; after
// a failed write it sends nothing more (the client went away, and the
// import stops when reading its body fails).
type progress struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	enc     *json.Encoder
	timeout time.Duration
	failed  bool
}

// startProgress answers 200 with an NDJSON body at once.
func startProgress(w http.ResponseWriter, rc *http.ResponseController, timeout time.Duration) *progress {
	_ = rc.EnableFullDuplex() // HTTP/2 is full duplex already
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	p := &progress{w: w, rc: rc, enc: json.NewEncoder(w), timeout: timeout}
	p.flush()
	return p
}

// send writes one line and flushes it to the client.
func (p *progress) send(line ImportProgress) {
	if p == nil || p.failed {
		return
	}
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.timeout))
	if err := p.enc.Encode(line); err != nil {
		p.failed = true
		return
	}
	p.flush()
}

func (p *progress) flush() {
	if err := p.rc.Flush(); err != nil {
		p.failed = true
	}
}
