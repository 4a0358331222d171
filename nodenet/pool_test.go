package nodenet

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// TestPool_ClosesConnectionsIdleTooLong: after a burst, the pool closes
// what has been idle for clientIdle (the server would close it at rpcIdle
// and leave this side's socket open until it was taken again), keeps the
// younger ones, and stops its timer once empty.
func TestPool_ClosesConnectionsIdleTooLong(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	p := &pool{now: func() time.Time { return now }}
	defer p.close()
	var peers []net.Conn
	conn := func() *rpcConn {
		a, b := net.Pipe()
		peers = append(peers, b)
		return newRPCConn(tls.Client(a, &tls.Config{InsecureSkipVerify: true}))
	}
	p.put("10.0.0.1:8300", conn())
	p.put("10.0.0.2:8300", conn())
	now = now.Add(clientIdle / 2)
	p.put("10.0.0.1:8300", conn())
	now = now.Add(clientIdle/2 + time.Second)
	p.reap()
	closed := func(i int) bool {
		_ = peers[i].SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := peers[i].Read(make([]byte, 1))
		return err == io.EOF || err == io.ErrClosedPipe
	}
	if !closed(0) || !closed(1) || closed(2) {
		t.Errorf("closed after reaping: %v %v %v, want the two older ones only", closed(0), closed(1), closed(2))
	}
	if n1, n2 := len(p.idle["10.0.0.1:8300"]), len(p.idle["10.0.0.2:8300"]); n1 != 1 || n2 != 0 || p.reaper == nil {
		t.Errorf("idle left %d and %d, timer %v; want 1, 0 and a timer armed", n1, n2, p.reaper)
	}
	now = now.Add(clientIdle)
	p.reap()
	if !closed(2) || p.reaper != nil || p.get("10.0.0.1:8300") != nil {
		t.Errorf("after the last one expired: closed %v, timer %v", closed(2), p.reaper)
	}
}
