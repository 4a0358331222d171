// Package fsmtest holds what tests that feed commands to the state
// machine share (fsm's own, and the store's): envelopes, token hashes,
// challenge bodies and the process's CPU time for benchmarks. It imports
// no wlns package but command, so fsm's internal tests can use it too.
package fsmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"syscall"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// T0 is the proposer time test commands carry.
const T0 = 1_700_000_000

// Env builds an envelope or fails the test.
func Env(tb testing.TB, typ command.Type, now int64, req string, body any) *command.Envelope {
	tb.Helper()
	e, err := command.New(typ, now, req, body)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// SecretHash is the hex SHA-256 a token stores for secret.
func SecretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ChallengeOpen is a pair challenge for sender through ip whose token is
// id, valid an hour, for registered relays only.
func ChallengeOpen(id, sender, ip string) command.ChallengeOpenBody {
	return command.ChallengeOpenBody{ID: id, Kind: "pair", Sender: sender, IP: ip, TokenHash: SecretHash(id), TTL: 3600, RequireRegistered: true}
}

// ChallengeConfirm confirms the challenge whose token is id.
func ChallengeConfirm(id, method string) command.ChallengeConfirmBody {
	return command.ChallengeConfirmBody{TokenHash: SecretHash(id), Method: method, By: "node-1"}
}

// ChallengeReport reports the challenge whose token is id.
func ChallengeReport(id, report string, suppress int64) command.ChallengeReportBody {
	return command.ChallengeReportBody{TokenHash: SecretHash(id), Report: report, SuppressFor: suppress, By: "node-2"}
}

// CPUTime is the CPU time (user+system, all threads, GC included) the
// process has used: on a shared machine it says more than wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU reports CPU seconds per operation since start.
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((CPUTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}
