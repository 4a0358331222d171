package verify

import (
	"fmt"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// BenchmarkOpenFor measures the look-up a Request makes for an open
// challenge of the same pair, over 100k stored challenges.
func BenchmarkOpenFor(b *testing.B) {
	e := newEnv(b)
	for i := range 100_000 {
		tok, _ := newToken()
		id, _ := newID()
		env, _ := command.New(command.ChallengeOpen, e.now.Unix(), id, command.ChallengeOpenBody{ID: id, Kind: "pair",
			Sender: fmt.Sprintf("user%d@example.com", i), Entity: e.group, TokenHash: HashToken(tok), TTL: 3600})
		if res, err := e.store.Apply(b.Context(), env); err != nil || res.Err != nil {
			b.Fatalf("open %d: %v %v", i, err, res.Err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if e.svc.openFor(record.ChallengePair, "nobody@example.com", "", e.group) != nil {
			b.Fatal("found")
		}
	}
}
