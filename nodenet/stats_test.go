package nodenet

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestNet_StatsRoundTrip(t *testing.T) {
	c := ca(t)
	srv, cli := listen(t, identity(t, c, "srv")), listen(t, identity(t, c, "cli"))
	srv.SetHandler(echoHandler{peer: make(chan string, 1)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := srv.Addr().String()
	var re *RemoteError
	if _, err := cli.Stats(ctx, addr, json.RawMessage(`{}`)); !errors.As(err, &re) || re.Code != CodeNotFound {
		t.Fatalf("stats without a stats handler: %v, want %s", err, CodeNotFound)
	}
	srv.SetStats(func(_ context.Context, req json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"node":"srv","asked":` + string(req) + `}`), nil
	})
	got, err := cli.Stats(ctx, addr, json.RawMessage(`{"entities":[1,2]}`))
	if err != nil || string(got) != `{"node":"srv","asked":{"entities":[1,2]}}` {
		t.Fatalf("stats: %s %v", got, err)
	}
}
