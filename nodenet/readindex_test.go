package nodenet

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// indexHandler is echoHandler with a read index.
type indexHandler struct {
	echoHandler
	idx uint64
}

func (h indexHandler) ReadIndex(context.Context) (uint64, error) { return h.idx, nil }

func TestNet_ReadIndex(t *testing.T) {
	c := ca(t)
	srv, cli := listen(t, identity(t, c, "srv")), listen(t, identity(t, c, "cli"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := srv.Addr().String()

	srv.SetHandler(echoHandler{peer: make(chan string, 1)})
	var re *RemoteError
	if _, err := cli.ReadIndex(ctx, addr); !errors.As(err, &re) || re.Code != CodeInvalid {
		t.Fatalf("read index from a handler without it: %v, want %s", err, CodeInvalid)
	}
	srv.SetHandler(indexHandler{echoHandler: echoHandler{peer: make(chan string, 1)}, idx: 4711})
	if idx, err := cli.ReadIndex(ctx, addr); err != nil || idx != 4711 {
		t.Fatalf("read index: %d %v, want 4711", idx, err)
	}
}

func TestNet_DialFailureIsNotSent(t *testing.T) {
	cli := listen(t, identity(t, ca(t), "cli"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = cli.Apply(ctx, dead, nil)
	if !errors.Is(err, ErrNotSent) {
		t.Fatalf("apply to a closed port: %v, want ErrNotSent", err)
	}
}
