package kit

import (
	"bufio"
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
	"time"
)

// NodeSpec says how to run one `wlns serve` of a benchmark.
type NodeSpec struct {
	// Bin is the wlns binary.
	Bin string
	// Work holds the cluster CA (work/ca, made by `wlns ca init`), and
	// receives the node's certificate, data folder, log and ready file.
	Work string
	// ID names the node; its data folder is work/data-<ID>.
	ID string
	// Apex is the zone it serves.
	Apex string
	// Join is the inter-node address of a member to join; empty starts
	// a new cluster (or restarts the node on its data folder).
	Join string
	// CPUs pins it with taskset (taskset's list syntax); empty: no pin.
	CPUs string
	// Args are more `wlns serve` flags; Env more environment variables.
	Args, Env []string
}

// Node is one `wlns serve` process of a benchmark. Its Proc's Addr is
// its DNS address and its log is JSON.
type Node struct {
	*Proc
	// ID is the spec's ID.
	ID string
	// Ready is what its ready file says.
	Ready struct {
		DNSUDP    string `json:"dns_udp"`
		HTTP      string `json:"http"`
		Raft      string `json:"raft"`
		TokenFile string `json:"token_file"`
	}
	// ReadyAfter is launch to ready file.
	ReadyAfter time.Duration
	// Token is the admin token.
	Token string

	readyFile string
}

// StartNode launches the node and waits (bounded) for its ready file.
func StartNode(ctx context.Context, s NodeSpec) (*Node, error) {
	n, err := LaunchNode(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := n.WaitReady(ctx, 30*time.Minute); err != nil {
		n.Stop()
		return nil, err
	}
	return n, nil
}

// LaunchNode starts wlns serve with a certificate from the CA in
// work/ca without waiting for it: the caller must wait with WaitReady and
// always stop it.
func LaunchNode(ctx context.Context, s NodeSpec) (*Node, error) {
	tls := filepath.Join(s.Work, "tls-"+s.ID)
	if _, err := os.Stat(filepath.Join(tls, "node.crt")); err != nil {
		if err := RunCmd(ctx, s.Bin, "ca", "issue", "--ca", filepath.Join(s.Work, "ca"), "--node-id", s.ID, "--addr", "127.0.0.1", "--out", tls); err != nil {
			return nil, err
		}
	}
	readyFile := filepath.Join(s.Work, "ready-"+s.ID+".json")
	os.Remove(readyFile)
	args := []string{"serve", "--data", filepath.Join(s.Work, "data-"+s.ID), "--dns", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--raft", "127.0.0.1:0", "--apex", s.Apex, "--ready-file", readyFile,
		"--raft-profile", "lan", "--join-token", "bench-join-secret", "--log-format", "json",
		"--cluster-ca", filepath.Join(tls, "ca.crt"), "--cluster-cert", filepath.Join(tls, "node.crt"),
		"--cluster-key", filepath.Join(tls, "node.key")}
	if s.Join != "" {
		args = append(args, "--join", s.Join)
	}
	args = append(args, s.Args...)
	p, err := Launch("wlns "+s.ID, append([]string{s.Bin}, args...), s.Env, filepath.Join(s.Work, "wlns-"+s.ID+".log"), s.CPUs)
	if err != nil {
		return nil, err
	}
	n := &Node{Proc: p, ID: s.ID, readyFile: readyFile}
	return n, nil
}

// WaitReady polls the ready file, then reads the admin token.
func (n *Node) WaitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(n.readyFile)
		if err == nil && json.Unmarshal(b, &n.Ready) == nil && n.Ready.HTTP != "" {
			break
		}
		select {
		case <-n.done:
			return fmt.Errorf("wlns %s exited (%v) before it was ready; see %s", n.ID, n.waitErr, n.LogPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wlns %s not ready after %v; see %s", n.ID, limit, n.LogPath)
		}
	}
	n.ReadyAfter = time.Since(n.Started)
	n.Addr = n.Ready.DNSUDP
	b, err := os.ReadFile(n.Ready.TokenFile)
	if err != nil {
		return fmt.Errorf("reading %s admin token: %w", n.ID, err)
	}
	n.Token = strings.TrimSpace(string(b))
	return nil
}

// Status is the part of GET /v1/status the benchmarks read.
type Status struct {
	Serial int64  `json:"serial"`
	Leader bool   `json:"leader"`
	Counts Counts `json:"counts"`
}

// Counts are the record counts of GET /v1/status.
type Counts struct {
	Entities    int `json:"entities"`
	Registered  int `json:"registered"`
	Pairs       int `json:"pairs"`
	DomainPairs int `json:"domain_pairs"`
	VerpSources int `json:"verp_sources"`
}

// Status reads the node's applied index and record counts.
func (n *Node) Status(ctx context.Context, c *http.Client) (Status, error) {
	var st Status
	code, b, err := n.Call(ctx, c, "GET", "/v1/status", nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("GET /v1/status on %s: %d %s", n.ID, code, b)
	}
	return st, json.Unmarshal(b, &st)
}

// Call sends one request with the admin token.
func (n *Node) Call(ctx context.Context, c *http.Client, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.Ready.HTTP+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+n.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// CPUSeconds is the process's user plus system CPU time from /proc.
func (n *Node) CPUSeconds() (float64, error) {
	return ProcCPU(n.PID())
}

// RSSMiB is the process's resident memory from /proc.
func (n *Node) RSSMiB() float64 {
	return KibField(fmt.Sprintf("/proc/%d/status", n.PID()), "VmRSS:") / 1024
}

// ProcCPU is the user plus system CPU seconds process pid used so far.
func ProcCPU(pid int) (float64, error) {
	s, err := ReadStat(pid)
	if err != nil {
		return 0, err
	}
	return float64(s.utime+s.stime) / clockTicks, nil
}

// WaitVoters polls the node's /v1/cluster until want members are voters.
func (n *Node) WaitVoters(ctx context.Context, hc *http.Client, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		v, err := n.Voters(ctx, hc)
		if err == nil && v == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d voters after %v (%v)", v, want, limit, err)
		}
		if err := Sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// Voters counts the voters the node's GET /v1/cluster lists.
func (n *Node) Voters(ctx context.Context, hc *http.Client) (int, error) {
	code, b, err := n.Call(ctx, hc, "GET", "/v1/cluster", nil)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/cluster: %d %s", code, b)
	}
	var cl struct {
		Members []struct {
			Voter bool `json:"voter"`
		} `json:"members"`
	}
	if err := json.Unmarshal(b, &cl); err != nil {
		return 0, fmt.Errorf("GET /v1/cluster: %w", err)
	}
	v := 0
	for _, m := range cl.Members {
		if m.Voter {
			v++
		}
	}
	return v, nil
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// WaitCaughtUp polls the node until it has applied at least the leader's
// index of want and holds as many pairs.
func (n *Node) WaitCaughtUp(ctx context.Context, hc *http.Client, want Status, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		st, err := n.Status(ctx, hc)
		if err == nil && st.Serial >= want.Serial && st.Counts.Pairs >= want.Counts.Pairs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mirror not caught up after %v: %+v %v (want %+v)", limit, st, err, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Metrics reads the node's /metrics into a map from series (name and
// labels as printed) to value.
func (n *Node) Metrics(ctx context.Context) (map[string]float64, error) {
	return Metrics(ctx, n.Ready.HTTP)
}

// Metrics reads a Prometheus text page from http://addr/metrics into a
// map from series (name and labels as printed) to value.
func Metrics(ctx context.Context, addr string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	defer resp.Body.Close()
	vals := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			vals[line[:i]] = v
		}
	}
	return vals, sc.Err()
}

// RunCmd runs a short command, bounded, returning its output on failure.
func RunCmd(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Hour)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// LastLines returns the last n lines of s, for error messages.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
