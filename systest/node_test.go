package systest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// apex is the zone every test node serves.
const apex = "wl.test"

// readyInfo is what `wlns serve --ready-file` writes once the node serves.
type readyInfo struct {
	DNSUDP    string `json:"dns_udp"`
	DNSTCP    string `json:"dns_tcp"`
	DNSTLS    string `json:"dns_tls"` // DNS over TLS, with --dns-tls
	HTTP      string `json:"http"`
	Raft      string `json:"raft"`
	SMTP      string `json:"smtp"`  // inbound SMTP, with verification on
	WHOIS     string `json:"whois"` // WHOIS, when on
	TokenFile string `json:"token_file"`
	XFR       string `json:"xfr"` // zone transfer, with --xfr
}

// node is one running `wlns serve` process.
type node struct {
	t       testing.TB
	dataDir string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
	ready   readyInfo
	token   string // the admin secret
}

// startNode starts wlns serve on dataDir (a new temp dir when empty) with
// every listener on an ephemeral loopback port, and waits until it is ready.
// The node is killed when the test ends.
func startNode(t testing.TB, dataDir string, extra ...string) *node {
	t.Helper()
	return startNodeOn(t, "", dataDir, extra...)
}

// startNodeOn is startNode with the process limited to cpus (taskset's list
// syntax; "" for any CPU) from its start, so that Go sizes its scheduler
// for them. taskset execs the node in place: the process is the node.
func startNodeOn(t testing.TB, cpus, dataDir string, extra ...string) *node {
	t.Helper()
	if dataDir == "" {
		dataDir = filepath.Join(t.TempDir(), "data")
	}
	run := t.TempDir()
	n := &node{
		t:       t,
		dataDir: dataDir,
		logPath: filepath.Join(run, "wlns.log"),
		done:    make(chan struct{}),
	}
	readyFile := filepath.Join(run, "ready.json")
	args := append([]string{"serve",
		"--data", dataDir,
		"--dns", "127.0.0.1:0",
		"--http", "127.0.0.1:0",
		"--raft", "127.0.0.1:0",
		"--apex", apex,
		"--ready-file", readyFile,
	}, extra...)
	logf := createLog(t, n.logPath)
	argv := append([]string{wlnsBin}, args...)
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	n.cmd = exec.Command(argv[0], argv[1:]...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting wlns serve: %v", err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		logf.Close()
		close(n.done)
	}()
	t.Cleanup(func() { n.kill() })
	n.waitReady(readyFile, 60*time.Second)
	return n
}

// waitReady polls for the ready file and then for the admin token.
func (n *node) waitReady(readyFile string, limit time.Duration) {
	n.t.Helper()
	n.readReady(readyFile, limit)
	tokenFile := n.ready.TokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(n.dataDir, "admin.token")
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		n.t.Fatalf("reading admin token: %v", err)
	}
	n.token = strings.TrimSpace(string(b))
}

// readReady polls for the ready file (a node without a token of its own,
// as a serve-only one, is ready then).
func (n *node) readReady(readyFile string, limit time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(readyFile)
		if err == nil && json.Valid(b) {
			if err := json.Unmarshal(b, &n.ready); err != nil {
				n.t.Fatalf("decoding ready file %s: %v: %s", readyFile, err, b)
			}
			break
		}
		select {
		case <-n.done:
			n.t.Fatalf("wlns serve exited before it was ready (%v); log:\n%s", n.waitErr, n.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("wlns serve not ready after %v; log:\n%s", limit, n.logTail())
		}
	}
	if n.ready.DNSUDP == "" || n.ready.DNSTCP == "" || n.ready.HTTP == "" {
		n.t.Fatalf("ready file lacks addresses: %+v", n.ready)
	}
}

// stop sends sig and waits (bounded) for the process to exit.
func (n *node) stop(sig syscall.Signal) error {
	n.t.Helper()
	select {
	case <-n.done:
		return n.waitErr
	default:
	}
	if err := n.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signalling wlns: %w", err)
	}
	select {
	case <-n.done:
		return n.waitErr
	case <-time.After(30 * time.Second):
		n.kill()
		return fmt.Errorf("wlns did not exit within 30s of %v", sig)
	}
}

// kill ends the process if it still runs; it is the test cleanup.
func (n *node) kill() {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	<-n.done
}

// logTail returns the last few KiB of the node's log, for failure messages.
func (n *node) logTail() string {
	b, _ := os.ReadFile(n.logPath)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// cliResult is what one wlns CLI invocation produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cli runs a wlns admin sub-command against the node with the admin token.
func (n *node) cli(args ...string) cliResult {
	n.t.Helper()
	return n.cliToken(n.token, args...)
}

// cliToken runs a wlns sub-command with an explicit token.
func (n *node) cliToken(token string, args ...string) cliResult {
	n.t.Helper()
	full := append(append([]string{}, args...), "--server", "http://"+n.ready.HTTP, "--token", token)
	return runWlns(n.t, full...)
}

// runWlns runs the wlns binary with a bounded time.
func runWlns(t testing.TB, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return runCmd(t, exec.CommandContext(ctx, wlnsBin, args...))
}

// runCmd runs cmd to its end and returns its output and exit status.
func runCmd(t testing.TB, cmd *exec.Cmd) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("running %s: %v", strings.Join(cmd.Args, " "), err)
	}
	return res
}

// mustCLI runs a sub-command and fails the test unless it exits 0.
func (n *node) mustCLI(args ...string) string {
	n.t.Helper()
	r := n.cli(args...)
	if r.code != 0 {
		n.t.Fatalf("wlns %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}
