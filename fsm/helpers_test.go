package fsm

import (
	"bytes"
	"crypto/sha256"
	"github.com/wlns/wlns/fsm/fsmtest"
	"net/netip"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// The shared test helpers (fsmtest).
const t0 = fsmtest.T0

var (
	env                         = fsmtest.Env
	secretHash                  = fsmtest.SecretHash
	chOpen, chConfirm, chReport = fsmtest.ChallengeOpen, fsmtest.ChallengeConfirm, fsmtest.ChallengeReport
	cpuTime, reportCPU          = fsmtest.CPUTime, fsmtest.ReportCPU
)

// fsmHarness feeds envelopes to an FSM as raft would, numbering the log.
type fsmHarness struct {
	tb  testing.TB
	f   *FSM
	idx uint64
	now int64
	// binary writes each command that has a binary form as a binary entry.
	binary bool
}

func newHarness(tb testing.TB) *fsmHarness {
	return &fsmHarness{tb: tb, f: NewFSM(nil, nil), now: t0}
}

// logs encodes envelopes as consecutive log entries.
func (h *fsmHarness) logs(es ...*command.Envelope) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		b, ok := e.EncodeBinary()
		if !h.binary || !ok {
			var err error
			if b, err = e.Encode(); err != nil {
				h.tb.Fatal(err)
			}
		}
		h.idx++
		out[i] = Entry{Index: h.idx, Term: 1, Command: true, Data: b}
	}
	return out
}

// apply applies envelopes as one raft batch and returns their results.
func (h *fsmHarness) apply(es ...*command.Envelope) []command.Result {
	h.tb.Helper()
	resp := h.f.ApplyEntries(h.logs(es...))
	out := make([]command.Result, len(resp))
	for i, r := range resp {
		out[i] = r.(command.Result)
	}
	return out
}

// do applies one command at the harness time, without a ReqID.
func (h *fsmHarness) do(typ command.Type, body any) command.Result {
	h.tb.Helper()
	return h.apply(env(h.tb, typ, h.now, "", body))[0]
}

// ok applies one command and fails the test if it is rejected.
func (h *fsmHarness) ok(typ command.Type, body any) command.Result {
	h.tb.Helper()
	r := h.do(typ, body)
	if r.Err != nil {
		h.tb.Fatalf("%s %+v: %v", typ, body, r.Err)
	}
	return r
}

func (h *fsmHarness) view() *index.View { return h.f.Index().Load() }

// persist returns the snapshot bytes of the FSM's current state.
func persist(tb testing.TB, f *FSM) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := f.Capture().WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// entityIDOf returns the ID of the entity ip resolves to, 0 for none.
func entityIDOf(v *index.View, ip string) uint64 {
	if e := v.EntityOf(addr(ip)); e != nil {
		return e.ID
	}
	return 0
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
