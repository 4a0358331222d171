package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// node is one `wlns serve` process of the benchmark cluster.
type node struct {
	id        string
	cmd       *exec.Cmd
	logPath   string
	readyFile string
	started   time.Time
	ready     struct {
		DNSUDP    string `json:"dns_udp"`
		HTTP      string `json:"http"`
		Raft      string `json:"raft"`
		TokenFile string `json:"token_file"`
	}
	readyAfter time.Duration // launch to ready file
	token      string
	done       chan struct{}
	waitErr    error
}

// startNode launches wlns serve for id in work with a certificate from the
// CA in work/ca, joining through join when it is set and pinned to the
// CPU list cpus (taskset syntax) when that is set, and waits (bounded)
// for its ready file.
func startNode(ctx context.Context, bin, work, id, join, cpus string) (*node, error) {
	n, err := launchNode(ctx, bin, work, id, join, cpus)
	if err != nil {
		return nil, err
	}
	if err := n.waitReady(ctx, n.readyFile, 30*time.Minute); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// launchNode starts wlns serve for id without waiting for it: the caller
// must wait with waitReady and always stop it.
func launchNode(ctx context.Context, bin, work, id, join, cpus string) (*node, error) {
	tls := filepath.Join(work, "tls-"+id)
	if err := runCmd(ctx, bin, "ca", "issue", "--ca", filepath.Join(work, "ca"), "--node-id", id, "--addr", "127.0.0.1", "--out", tls); err != nil {
		return nil, err
	}
	readyFile := filepath.Join(work, "ready-"+id+".json")
	args := []string{"serve", "--data", filepath.Join(work, "data-"+id), "--dns", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--raft", "127.0.0.1:0", "--apex", zone, "--ready-file", readyFile,
		"--raft-profile", "lan", "--join-token", "bench-join-secret", "--log-format", "json",
		"--cluster-ca", filepath.Join(tls, "ca.crt"), "--cluster-cert", filepath.Join(tls, "node.crt"),
		"--cluster-key", filepath.Join(tls, "node.key")}
	if join != "" {
		args = append(args, "--join", join)
	}
	n := &node{id: id, logPath: filepath.Join(work, "wlns-"+id+".log"), readyFile: readyFile, done: make(chan struct{})}
	logf, err := os.Create(n.logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", n.logPath, err)
	}
	n.cmd = exec.Command(bin, args...)
	if cpus != "" { // taskset execs wlns in place: the PID stays the server's
		n.cmd = exec.Command("taskset", append([]string{"-c", cpus, bin}, args...)...)
	}
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	n.started = time.Now()
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting wlns serve %s: %w", id, err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		logf.Close()
		close(n.done)
	}()
	return n, nil
}

// waitReady polls the ready file, then reads the admin token.
func (n *node) waitReady(ctx context.Context, readyFile string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(readyFile)
		if err == nil && json.Unmarshal(b, &n.ready) == nil && n.ready.HTTP != "" {
			break
		}
		select {
		case <-n.done:
			return fmt.Errorf("wlns %s exited (%v) before it was ready; see %s", n.id, n.waitErr, n.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wlns %s not ready after %v; see %s", n.id, limit, n.logPath)
		}
	}
	n.readyAfter = time.Since(n.started)
	b, err := os.ReadFile(n.ready.TokenFile)
	if err != nil {
		return fmt.Errorf("reading %s admin token: %w", n.id, err)
	}
	n.token = strings.TrimSpace(string(b))
	return nil
}

// stop ends the node with SIGTERM, then SIGKILL after 30 s.
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// status is the part of GET /v1/status the benchmark reads.
type status struct {
	Serial int64 `json:"serial"`
	Counts struct {
		Pairs int `json:"pairs"`
	} `json:"counts"`
}

// status reads the node's applied index and pair count.
func (n *node) status(ctx context.Context, c *http.Client) (status, error) {
	var st status
	code, b, err := n.call(ctx, c, "GET", "/v1/status", nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("GET /v1/status on %s: %d %s", n.id, code, b)
	}
	return st, json.Unmarshal(b, &st)
}

// call sends one request with the admin token.
func (n *node) call(ctx context.Context, c *http.Client, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.ready.HTTP+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// cpuSeconds is the process's user plus system CPU time from /proc.
func (n *node) cpuSeconds() (float64, error) {
	return procCPU(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
}

// rssMiB is the process's resident memory from /proc.
func (n *node) rssMiB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// runCmd runs a short command, bounded, returning its output on failure.
func runCmd(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Hour)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
