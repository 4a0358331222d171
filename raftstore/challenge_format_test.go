package raftstore

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/wlns/wlns/command"
)

// A state that a build from before the challenges can hold is written in
// the format that build reads: the format-1 golden file restores and
// persists back byte for byte.
func TestSnapshot_WritesFormat1WithoutVerificationState(t *testing.T) {
	restoreUnchanged(t, "testdata/snapshot-v1.bin")
}

// restoreUnchanged restores the snapshot an older build wrote to file and
// fails unless this build persists it back byte for byte.
func restoreUnchanged(t *testing.T, file string) *FSM {
	t.Helper()
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFSM(nil, nil)
	if err := f.Restore(io.NopCloser(bytes.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	if got := persist(t, f); !bytes.Equal(got, old) {
		t.Fatalf("re-persisted %s differs from what the old build wrote (format %d, %d bytes, want %d)",
			file, got[len(snapMagic)], len(got), len(old))
	}
	return f
}

func TestSnapshot_FormatFollowsTheState(t *testing.T) {
	mta := command.TokenBody{Name: "postfix", Hash: secretHash("p"), Role: "mta"}
	cases := []struct {
		name  string
		steps []step
		want  byte
	}{
		{"records and tokens only", []step{{command.TokenPut, command.TokenBody{Name: "ops", Hash: secretHash("o"), Role: "admin"}}}, 1},
		{"an open challenge", []step{{command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5")}}, 2},
		{"an mta token", []step{{command.TokenPut, mta}}, 2},
		{"mta token revoked", []step{{command.TokenPut, mta}, {command.TokenDelete, command.TokenBody{Name: "postfix"}}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := chHarness(t)
			for _, s := range c.steps {
				h.ok(s.typ, s.body)
			}
			snap := persist(t, h.f)
			if got := snap[len(snapMagic)]; got != c.want {
				t.Fatalf("written as format %d, want %d", got, c.want)
			}
			r := NewFSM(nil, nil)
			if err := r.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(persist(t, r), snap) {
				t.Fatal("restored state persists differently")
			}
		})
	}
	// Once the sweep has forgotten every challenge, the state is format 1
	// again.
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 40 * 86400
	h.ok(command.Expire, command.ExpireBody{Challenges: h.now - 30*86400})
	if got := persist(t, h.f)[len(snapMagic)]; got != 1 {
		t.Fatalf("after the sweep: format %d, want 1", got)
	}
}
