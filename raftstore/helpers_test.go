package raftstore

import (
	"net/netip"

	"github.com/wlns/wlns/fsm/fsmtest"
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

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// entityIDOf returns the ID of the entity ip resolves to, 0 for none.
func entityIDOf(v *index.View, ip string) uint64 {
	if e := v.EntityOf(addr(ip)); e != nil {
		return e.ID
	}
	return 0
}
