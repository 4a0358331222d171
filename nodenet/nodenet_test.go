package nodenet

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/wlns/wlns/clustertls"
	"github.com/wlns/wlns/command"
)

func identity(t testing.TB, caDir, id string) *clustertls.Identity {
	t.Helper()
	out := filepath.Join(t.TempDir(), id)
	if err := clustertls.IssueNode(caDir, out, clustertls.NodeRequest{NodeID: id, Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ident, err := clustertls.Load(clustertls.Files{CA: filepath.Join(out, "ca.crt"), Cert: filepath.Join(out, "node.crt"), Key: filepath.Join(out, "node.key")})
	if err != nil {
		t.Fatal(err)
	}
	return ident
}

func ca(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := clustertls.InitCA(dir, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func listen(t testing.TB, id *clustertls.Identity) *Net {
	t.Helper()
	n, err := Listen("127.0.0.1:0", "", id, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// echoHandler answers Status with the caller's node ID as the leader ID.
type echoHandler struct{ peer chan string }

func (echoHandler) Apply(context.Context, *command.Envelope) (command.Result, uint64, error) {
	return command.Result{ID: 7}, 42, nil
}

func (h echoHandler) Join(_ context.Context, _ JoinRequest, peer string) (JoinResponse, error) {
	h.peer <- peer
	return JoinResponse{}, &RemoteError{Code: CodeForbidden, Msg: "wrong join token"}
}
func (echoHandler) Remove(context.Context, string) error { return errors.New("boom") }
func (echoHandler) Status(context.Context) (NodeStatus, error) {
	return NodeStatus{NodeID: "srv", State: "Leader"}, nil
}

func TestNet_RPCRoundTrips(t *testing.T) {
	c := ca(t)
	srv, cli := listen(t, identity(t, c, "srv")), listen(t, identity(t, c, "cli"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := srv.Addr().String()
	var re *RemoteError
	if _, err := cli.Status(ctx, addr); !errors.As(err, &re) || re.Code != CodeNotServing {
		t.Fatalf("RPC before a handler: %v, want %s", err, CodeNotServing)
	}
	h := echoHandler{peer: make(chan string, 1)}
	srv.SetHandler(h)
	if st, err := cli.Status(ctx, addr); err != nil || st.NodeID != "srv" {
		t.Fatalf("status: %+v %v", st, err)
	}
	res, idx, err := cli.Apply(ctx, addr, &command.Envelope{V: 1, Type: command.PairPut})
	if err != nil || res.ID != 7 || idx != 42 {
		t.Fatalf("apply: %+v %d %v", res, idx, err)
	}
	if _, err := cli.Join(ctx, addr, JoinRequest{NodeID: "cli"}); !errors.As(err, &re) || re.Code != CodeForbidden {
		t.Fatalf("join: %v, want the handler's forbidden error", err)
	}
	if p := <-h.peer; p != "cli" {
		t.Fatalf("the handler saw peer %q, want the caller's certificate ID cli", p)
	}
	if err := cli.Remove(ctx, addr, "x"); !errors.As(err, &re) || re.Code != CodeInternal || re.Msg != "boom" {
		t.Fatalf("remove: %v, want an internal error carrying the message", err)
	}
}

func TestNet_RefusesPlaintextAndForeignCertificates(t *testing.T) {
	srv := listen(t, identity(t, ca(t), "srv"))
	srv.SetHandler(echoHandler{peer: make(chan string, 1)})
	// A plaintext client gets no RPC answer: the server expects a TLS
	// ClientHello and drops the connection.
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("C{\"op\":\"status\"}\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(conn)
	if len(b) > 0 && b[0] != 0x15 { // at most a TLS alert record
		t.Fatalf("plaintext client got %q", b)
	}
	// A node of another CA cannot call.
	stranger := listen(t, identity(t, ca(t), "x"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = stranger.Status(ctx, srv.Addr().String())
	if err == nil || !IsAuthError(err) {
		t.Fatalf("foreign certificate: %v, want an authentication error", err)
	}
}

func TestListen_WildcardNeedsAdvertise(t *testing.T) {
	if _, err := Listen("0.0.0.0:0", "", identity(t, ca(t), "n"), slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a wildcard bind without an advertise address was accepted")
	}
}

func TestNet_PooledConnectionToARestartedPeerIsRetried(t *testing.T) {
	c := ca(t)
	srvID, cli := identity(t, c, "srv"), listen(t, identity(t, c, "cli"))
	srv := listen(t, srvID)
	srv.SetHandler(echoHandler{peer: make(chan string, 1)})
	addr := srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 { // the connection is reused
		if _, err := cli.Status(ctx, addr); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(cli.pool.idle[addr]); got != 1 {
		t.Fatalf("%d idle connections after sequential calls, want 1", got)
	}
	srv.Close()
	again, err := Listen(addr, "", srvID, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("reopening %s: %v", addr, err)
	}
	defer again.Close()
	again.SetHandler(echoHandler{peer: make(chan string, 1)})
	if st, err := cli.Status(ctx, addr); err != nil || st.NodeID != "srv" {
		t.Fatalf("call after the peer restarted: %+v %v", st, err)
	}
}
