package nodenet

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzRPCFrames sends arbitrary bytes as the request stream of an
// authenticated inter-node RPC connection: truncated, concatenated or
// hostile JSON, unknown operations, missing bodies, huge timeouts. The
// receiving node answers each request it could decode with a well-formed
// response, hands the store only requests that carry their body, and
// closes the connection when the stream ends or breaks — never a panic,
// never a hang.
func FuzzRPCFrames(f *testing.F) {
	c := ca(f)
	srv, cli := listen(f, identity(f, c, "srv")), listen(f, identity(f, c, "cli"))
	srv.SetHandler(echoHandler{peer: make(chan string, 1<<16)})
	addr := srv.Addr().String()
	for _, s := range []string{
		`{"op":"status"}`,
		`{"op":"apply","timeout":1000000,"envelope":{"v":1,"type":"pair.put","time":1,"body":{}}}{"op":"status"}`,
		`{"op":"apply"}`,
		`{"op":"join","join":{"node_id":"x","addr":"127.0.0.1:1","token":"t"}}`,
		`{"op":"remove","id":"srv"}{"op":"readindex"}`,
		`{"op":"status","timeout":-1}` + "\n" + `{"op":`,
		`[1,2,3]`,
		`{"op":"apply","envelope":{"v":99,"body":"` + string(make([]byte, 300)) + `"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tc, err := cli.dial(ctx, addr, kindRPC)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		deadline := time.Now().Add(10 * time.Second)
		_ = tc.SetDeadline(deadline)
		go func() {
			_, _ = tc.Write(in)
			_ = tc.CloseWrite()
		}()
		dec := json.NewDecoder(tc)
		for {
			var resp response
			err := dec.Decode(&resp)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if time.Now().After(deadline) {
					t.Fatal("the node did not close the connection within 10s of the end of the stream")
				}
				t.Fatalf("the node wrote something that is not a response: %v", err)
			}
			if resp.Err == nil && resp.Result == nil && resp.Join == nil && resp.Status == nil && resp.Index == 0 {
				// A successful remove answers an empty object; the echo
				// handler's remove always fails, so an empty answer is a
				// request the node did not dispatch.
				t.Fatalf("empty response to a request in %q", in)
			}
		}
	})
}
