package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is `wlns serve` running in the test process.
type testServer struct {
	ready  readyInfo
	stderr *syncBuffer
	stop   func() int
}

// startServe runs `wlns serve` on dir with every port 0 and waits for its
// ready file.
func startServe(t *testing.T, dir string) *testServer {
	t.Helper()
	return startServeWith(t, dir)
}

// startServeWith is startServe with more serve flags.
func startServeWith(t *testing.T, dir string, extra ...string) *testServer {
	t.Helper()
	readyFile := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--data", dir, "--dns", "127.0.0.1:0", "--http", "127.0.0.1:0",
			"--raft", "127.0.0.1:0", "--apex", "wl.test", "--readers", "1", "--ready-file", readyFile}, extra...),
			&cli{stdout: s.stderr, stderr: s.stderr, getenv: envMap(nil)})
	}()
	var once sync.Once
	code := 0
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("serve did not stop within 20s")
			}
		})
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(readyFile)
		if err == nil {
			if err := json.Unmarshal(b, &s.ready); err != nil {
				t.Fatalf("ready file %q: %v", b, err)
			}
			return s
		}
		select {
		case c := <-done:
			t.Fatalf("serve exited with %d before ready:\n%s", c, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready in 30s:\n%s", s.stderr.String())
		}
	}
}

func TestServe_FirstStartMakesTokenAndRestartReusesIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	secret, err := os.ReadFile(s.ready.TokenFile)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	st, _ := os.Stat(s.ready.TokenFile)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	tok := strings.TrimSpace(string(secret))
	if strings.Count(s.stderr.String(), tok) != 1 {
		t.Errorf("the secret is not printed exactly once:\n%s", s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "msg=ready") {
		t.Errorf("no ready log line:\n%s", s.stderr.String())
	}
	code, out, errOut := runCLI(t, nil, "pair", "add", "dave@umkc.edu", "192.0.2.4", "--server", "http://"+s.ready.HTTP, "--token", tok)
	if code != exitOK || !strings.Contains(out, `"sender": "dave@umkc.edu"`) {
		t.Fatalf("pair add: exit %d %s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, nil, "check", "dave@umkc.edu", "192.0.2.4", "--dns", s.ready.DNSUDP, "--apex", "wl.test")
	if code != exitOK || !strings.Contains(out, "IN\tA\t127.0.2.2") {
		t.Fatalf("check listed pair: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, nil, "check", "eve@umkc.edu", "192.0.2.4", "--dns", s.ready.DNSTCP, "--tcp", "--apex", "wl.test")
	if code != exitFailure || !strings.Contains(out, "not listed") {
		t.Fatalf("check unlisted pair: exit %d\n%s", code, out)
	}
	if c := s.stop(); c != exitOK {
		t.Fatalf("serve exit %d after SIGINT-like stop:\n%s", c, s.stderr.String())
	}

	s2 := startServe(t, dir)
	if strings.Contains(s2.stderr.String(), tok) {
		t.Error("restart printed the secret again")
	}
	again, _ := os.ReadFile(s2.ready.TokenFile)
	if string(again) != string(secret) {
		t.Error("restart replaced the admin token")
	}
	code, out, errOut = runCLI(t, nil, "pair", "list", "--server", "http://"+s2.ready.HTTP, "--token-file", s2.ready.TokenFile)
	if code != exitOK || !strings.Contains(out, "dave@umkc.edu") {
		t.Fatalf("pair list after restart: exit %d %s%s", code, out, errOut)
	}
}

func TestCLI_AdminCommandsAgainstAServer(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "data"))
	env := map[string]string{"WLNS_SERVER": "http://" + s.ready.HTTP, "WLNS_TOKEN_FILE": s.ready.TokenFile}
	must := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, env, args...)
		if code != want {
			t.Fatalf("wlns %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	must(exitOK, "group", "create", "mx", "--member", "192.0.2.0/28,2001:db8::/64", "--contact", "pm@b.example", "--registered")
	must(exitOK, "group", "add-member", "mx", "198.51.100.7")
	if out := must(exitOK, "group", "show", "mx"); !strings.Contains(out, "198.51.100.7/32") {
		t.Errorf("group show: %s", out)
	}
	must(exitOK, "relay", "add", "203.0.113.5", "--contact", "pm@c.example")
	if out := must(exitOK, "relay", "list"); !strings.Contains(out, "203.0.113.5") {
		t.Errorf("relay list: %s", out)
	}
	must(exitOK, "verp", "add", "lists.b.example", "192.0.2.3")
	if out := must(exitOK, "verp", "list", "--domain", "lists.b.example"); !strings.Contains(out, "lists.b.example") {
		t.Errorf("verp list: %s", out)
	}
	secret := strings.TrimSpace(must(exitOK, "token", "create", "reader", "--role", "read"))
	if out := must(exitFailure, "pair", "add", "a@b.example", "192.0.2.1", "--token", secret); !strings.Contains(out, "HTTP 403") {
		t.Errorf("read token writing: %s", out)
	}
	must(exitOK, "pair", "list", "--token", secret)
	if out := must(exitFailure, "pair", "list", "--token-file", filepath.Join(t.TempDir(), "none")); !strings.Contains(out, "no token given") {
		t.Errorf("missing token: %s", out)
	}

	file := filepath.Join(t.TempDir(), "in.ndjson")
	lines := `{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1"}
{"kind":"pair","sender":"bad sender","ip":"192.0.2.1"}
{"kind":"pair","sender":"c@b.example","ip":"192.0.2.1"}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out := must(exitFailure, "import", file, "--batch", "1")
	if !strings.Contains(out, "applied 2, rejected 1") || !strings.Contains(out, "line 2:") {
		t.Errorf("import report: %s", out)
	}
	if out := must(exitOK, "pair", "list", "--ip", "192.0.2.1", "--json"); strings.Count(out, `"sender"`) != 2 {
		t.Errorf("pairs after import: %s", out)
	}
	must(exitOK, "pair", "del", "a@b.example", "192.0.2.1")
	must(exitFailure, "pair", "del", "a@b.example", "192.0.2.1")
	if out := must(exitOK, "status"); !strings.Contains(out, `"leader": true`) || !strings.Contains(out, `"leader_addr": "127.0.0.1:`) {
		t.Errorf("status: %s", out)
	}
	if out := must(exitOK, "token", "list"); !strings.Contains(out, "reader") || strings.Contains(out, secret) {
		t.Errorf("token list: %s", out)
	}
	must(exitOK, "token", "del", "reader")
	must(exitOK, "group", "del", "mx")
	must(exitFailure, "group", "show", "mx")
}
