package admin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Import limits.
const (
	// MaxImportLine bounds one line of an import.
	MaxImportLine = 1 << 20
	// maxImportErrors bounds the line errors an import report lists.
	maxImportErrors = 1000
	// maxBatchBytes ends a batch early when its commands reach this size,
	// well below the store's limit on one log entry (8 MiB).
	maxBatchBytes = 4 << 20
)

// ImportLine is one line of POST /v1/import. Kind selects which fields
// apply: "pair" as PairRequest, "verp" as VerpRequest, "relay" as
// RelayRequest, "group" as GroupRequest.
type ImportLine struct {
	// Kind is "pair", "verp", "relay" or "group".
	Kind string `json:"kind"`
	// Sender is a pair's sender address or domain.
	Sender string `json:"sender,omitempty"`
	// Domain is a VERP source's list domain.
	Domain string `json:"domain,omitempty"`
	// IP names the relay of a pair or VERP source, or is a relay's address.
	IP string `json:"ip,omitempty"`
	// Entity names the relay of a pair or VERP source by ID, instead of IP.
	Entity uint64 `json:"entity,omitempty"`
	// Name is a group's name; a group of that name is replaced.
	Name string `json:"name,omitempty"`
	// Members are a group's addresses and prefixes.
	Members []string `json:"members,omitempty"`
	// Contact is a relay's or group's accountable e-mail address.
	Contact string `json:"contact,omitempty"`
	// PTR is a relay's or group's forward-confirmed reverse name.
	PTR string `json:"ptr,omitempty"`
	// Registered registers a group (relays always are).
	Registered bool `json:"registered,omitempty"`
	// Pinned keeps the record from expiring.
	Pinned bool `json:"pinned,omitempty"`
}

// ImportReport is the answer of POST /v1/import.
type ImportReport struct {
	// Lines is the number of records read (blank and '#' lines excluded).
	Lines int `json:"lines"`
	// Applied is the number of records in applied batches.
	Applied int `json:"applied"`
	// Rejected is the number of records in rejected batches.
	Rejected int `json:"rejected"`
	// Batches lists every batch in order.
	Batches []ImportBatch `json:"batches"`
	// Errors lists the lines that were wrong, at most 1000.
	Errors []LineError `json:"errors,omitempty"`
	// ErrorsTruncated is true when more lines were wrong than listed.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
	// Stopped says why the import ended before the end of its input.
	Stopped string `json:"stopped,omitempty"`
}

// ImportBatch is the outcome of one batch: all its records applied, or none.
type ImportBatch struct {
	// FirstLine and LastLine are the input line numbers it covers (from 1).
	FirstLine int `json:"first_line"`
	LastLine  int `json:"last_line"`
	// Records is the number of records in it.
	Records int `json:"records"`
	// Applied is true when the batch was applied.
	Applied bool `json:"applied"`
	// Error says why it was rejected.
	Error string `json:"error,omitempty"`
}

// LineError is a wrong import line.
type LineError struct {
	// Line is the input line number, from 1.
	Line int `json:"line"`
	// Error says what was wrong.
	Error string `json:"error"`
}

func (a *API) importNDJSON(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := checkNDJSON(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	size := a.cfg.ImportBatch
	if s := r.URL.Query().Get("batch"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxImportBatch {
			return errorf(http.StatusBadRequest, "invalid batch %q: want 1 to %d", s, MaxImportBatch)
		}
		size = n
	}
	base, err := reqID(r)
	if err != nil {
		return err
	}
	imp := &importer{a: a, c: c, rc: http.NewResponseController(w), size: size, maxBytes: a.maxBatchBytes, reqBase: base,
		now: a.cfg.Now().Unix(), v: a.store.Index().Load()}
	if wantsProgress(r) {
		imp.stream = startProgress(w, imp.rc, a.cfg.Timeout)
	}
	if err := imp.run(r.Context(), r.Body); err != nil && imp.rep.Applied == 0 && imp.stream == nil {
		return err
	}
	if imp.stream != nil {
		imp.stream.send(ImportProgress{Report: &imp.rep})
		return nil
	}
	_ = imp.rc.SetWriteDeadline(time.Now().Add(a.cfg.Timeout))
	writeJSON(w, http.StatusOK, &imp.rep)
	return nil
}

func checkNDJSON(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return errorf(http.StatusUnsupportedMediaType, "bad Content-Type %q", ct)
	case mt == "application/x-ndjson", mt == "application/jsonl", mt == "application/json", mt == "text/plain":
		return nil
	default:
		return errorf(http.StatusUnsupportedMediaType, "Content-Type %q: want application/x-ndjson", mt)
	}
}

// importer turns a stream of lines into batches of commands. One batch is
// applied in the background while the next one is read and validated; the
// batches still apply one after the other, in input order.
type importer struct {
	a        *API
	c        *caller
	rc       *http.ResponseController
	size     int
	maxBytes int // a batch ends at size records or maxBytes, whichever first
	reqBase  string
	now      int64
	v        *index.View
	groups   map[string]*record.Entity // by name in v; built on demand
	cur      pendingBatch
	batches  int       // batches started, for their request IDs
	flying   *inFlight // the batch being applied, or nil
	failed   error     // the store error that stopped the import
	rep      ImportReport
	stream   *progress // the client's progress stream, or nil
}

// pendingBatch is the batch being filled. Relay, pair and VERP lines go
// into one Import command (a compact record list, its relay registrations
// first); a batch with a group line, or with a relay line after a pair or
// VERP line (the Import would register it first), goes as a Batch of JSON
// commands in line order instead.
type pendingBatch struct {
	first, last int
	records     int
	items       []batchItem // the valid lines, in order
	mixed       bool        // it must go as a Batch
	hasGroup    bool        // a group line is among them
	hasRecord   bool        // a pair or VERP line is among them
	bytes       int         // encoded size of the commands, roughly
	err         string
	lines       []int // input line of each command as proposed (flush)
}

// batchItem is one valid line: a group command, a relay registration, or
// a pair or VERP record.
type batchItem struct {
	line  int
	env   *command.Envelope
	isReg bool
	reg   command.ImportRegistration
	relay command.ImportRelay
	rec   command.ImportRecord
}

// inFlight is a batch handed to the store.
type inFlight struct {
	batch pendingBatch
	done  chan error
	addrs map[netip.Addr]bool // the relay addresses its lines name, built on demand
}

// run reads r to its end or to the first error that stops the import, and
// returns once every batch it started has been applied or rejected.
func (imp *importer) run(ctx context.Context, r io.Reader) error {
	err := imp.read(ctx, r)
	if werr := imp.wait(); err == nil {
		err = werr
	}
	return err
}

func (imp *importer) read(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxImportLine)
	lineNo := 0
	imp.extendRead()
	for sc.Scan() {
		lineNo++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		imp.add(lineNo, b)
		if imp.failed != nil {
			return imp.failed
		}
		if imp.cur.records == imp.size || imp.cur.bytes >= imp.maxBytes {
			if err := imp.flush(ctx); err != nil {
				return err
			}
			imp.extendRead()
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d is longer than %d bytes", lineNo+1, MaxImportLine)
		}
		if werr := imp.wait(); werr != nil {
			return werr
		}
		imp.rep.Stopped = "reading the input: " + err.Error()
		imp.reject(&imp.cur, "input ended early: "+err.Error())
		return errorf(http.StatusBadRequest, "%s", imp.rep.Stopped)
	}
	return imp.flush(ctx)
}

func (imp *importer) extendRead() {
	_ = imp.rc.SetReadDeadline(time.Now().Add(imp.a.cfg.Timeout)) // unsupported in tests
}

// add validates one line into the pending batch.
func (imp *importer) add(lineNo int, b []byte) {
	p := &imp.cur
	if p.records == 0 {
		p.first = lineNo
	}
	p.last = lineNo
	p.records++
	imp.rep.Lines++
	it, err := imp.item(b)
	if err != nil {
		_, msg := statusOf(err)
		imp.lineError(lineNo, msg)
		if p.err == "" {
			p.err = fmt.Sprintf("line %d: %s", lineNo, msg)
		}
		return
	}
	it.line = lineNo
	if p.items == nil {
		p.items = make([]batchItem, 0, min(imp.size, 1<<14))
	}
	p.items = append(p.items, it)
	switch {
	case it.env != nil:
		p.mixed, p.hasGroup = true, true
		p.bytes += len(it.env.Body) + len(it.env.Type) + 40
	case it.isReg:
		p.mixed = p.mixed || p.hasRecord
		p.bytes += len(it.reg.Contact) + len(it.reg.PTR) + 120 // as a JSON command, should the batch be mixed
	default:
		p.hasRecord = true
		p.bytes += len(it.rec.Text) + 80
	}
}

func (imp *importer) lineError(line int, msg string) {
	if len(imp.rep.Errors) >= maxImportErrors {
		imp.rep.ErrorsTruncated = true
		return
	}
	imp.rep.Errors = append(imp.rep.Errors, LineError{Line: line, Error: msg})
}

// flush hands the pending batch to the store once the previous one is
// done, or records it as rejected.
func (imp *importer) flush(ctx context.Context) error {
	p := imp.cur
	imp.cur = pendingBatch{}
	if p.records == 0 {
		return nil
	}
	if err := imp.wait(); err != nil {
		return err
	}
	imp.batches++
	if p.err != "" {
		imp.reject(&p, p.err)
		return nil
	}
	id := imp.reqBase + "/" + strconv.Itoa(imp.batches)
	env, err := imp.envelope(&p, id)
	if err != nil {
		return err
	}
	f := &inFlight{batch: p, done: make(chan error, 1)}
	go func() {
		actx, cancel := context.WithTimeout(ctx, imp.a.cfg.Timeout)
		defer cancel()
		_, err := imp.a.apply(actx, env)
		f.done <- err
	}()
	imp.flying = f
	if imp.c.tok.Role != record.RoleAdmin {
		return imp.wait() // a postmaster's lines are checked against the latest data
	}
	return nil
}

// wait waits for the batch in flight, records its outcome and moves the
// view on. A store error is returned, and kept in imp.failed.
func (imp *importer) wait() error {
	f := imp.flying
	if f == nil {
		return imp.failed
	}
	imp.flying = nil
	err := <-f.done
	p := &f.batch
	var rj *command.Rejection
	switch {
	case errors.As(err, &rj):
		line := p.first
		if rj.Index >= 0 && rj.Index < len(p.lines) {
			line = p.lines[rj.Index]
		}
		imp.lineError(line, rj.Message)
		imp.reject(p, fmt.Sprintf("line %d: %s", line, rj.Message))
	case err != nil:
		_, msg := statusOf(err)
		imp.rep.Stopped = msg
		imp.reject(p, msg)
		imp.failed = err
		return err
	default:
		imp.rep.Applied += p.records
		imp.decided(ImportBatch{FirstLine: p.first, LastLine: p.last, Records: p.records, Applied: true})
	}
	imp.v, imp.groups = imp.a.store.Index().Load(), nil
	return nil
}

// reject records batch p as rejected.
func (imp *importer) reject(p *pendingBatch, why string) {
	if p.records == 0 {
		return
	}
	imp.rep.Rejected += p.records
	imp.decided(ImportBatch{FirstLine: p.first, LastLine: p.last, Records: p.records, Error: why})
}

// decided records a batch's outcome, and streams it to a client that asked
// for progress.
func (imp *importer) decided(b ImportBatch) {
	imp.rep.Batches = append(imp.rep.Batches, b)
	imp.stream.send(ImportProgress{Batch: &b})
}
