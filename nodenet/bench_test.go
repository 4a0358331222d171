package nodenet

import (
	"context"
	"testing"

	"github.com/wlns/wlns/command"
)

// BenchmarkNet_ApplyRoundTrip is one forwarded-command RPC (a new TLS 1.3
// connection each, as Apply forwards today) against a handler that answers
// at once.
func BenchmarkNet_ApplyRoundTrip(b *testing.B) {
	c := ca(b)
	srv, cli := listen(b, identity(b, c, "srv")), listen(b, identity(b, c, "cli"))
	srv.SetHandler(echoHandler{peer: make(chan string, 1)})
	ctx := context.Background()
	e := &command.Envelope{V: 1, Type: command.PairPut}
	for b.Loop() {
		if _, _, err := cli.Apply(ctx, srv.Addr().String(), e); err != nil {
			b.Fatal(err)
		}
	}
}
