package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a one-node store in dir and waits until it is ready.
func openStore(tb testing.TB, dir string, mod func(*Config)) *Store {
	tb.Helper()
	cfg := Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.WaitReady(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

// mustApply applies a command and fails on an error or a rejection.
func mustApply(tb testing.TB, s *Store, typ command.Type, req string, body any) command.Result {
	tb.Helper()
	r, err := s.Apply(context.Background(), env(tb, typ, time.Now().Unix(), req, body))
	if err != nil {
		tb.Fatal(err)
	}
	if r.Err != nil {
		tb.Fatalf("%s rejected: %v", typ, r.Err)
	}
	return r
}

// pairBatch is a Batch of n pair puts through relay ip.
func pairBatch(tb testing.TB, ip string, from, n int) *command.Envelope {
	var b command.BatchBody
	for i := from; i < from+n; i++ {
		b.Commands = append(b.Commands, *env(tb, command.PairPut, 0, "", command.PairBody{Sender: fmt.Sprintf("user%d@example.org", i), IP: ip}))
	}
	return env(tb, command.Batch, time.Now().Unix(), "", b)
}

func TestStore_ApplyCloseReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	if !s.IsLeader() {
		t.Fatal("bootstrapped node is not leader")
	}
	g := mustApply(t, s, command.EntityPut, "", command.EntityBody{Name: "g", Group: true, Prefixes: []string{"192.0.2.0/24"}})
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.9"})
	mustApply(t, s, command.TokenPut, "", command.TokenBody{Name: "ops", Hash: secretHash("x"), Role: "admin"})
	r := mustApply(t, s, command.PairPut, "req-1", command.PairBody{Sender: "eve@umkc.edu", Entity: g.ID})
	if !r.Created {
		t.Fatal("new pair not reported created")
	}
	id := s.NodeID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}

	s2 := openStore(t, dir, nil)
	v := s2.Index().Load()
	if s2.NodeID() != id || v.Pair(g.ID, []byte("dave@umkc.edu")) == nil || v.Pair(g.ID, []byte("eve@umkc.edu")) == nil {
		t.Fatalf("data lost over restart: node %s/%s counts %+v", id, s2.NodeID(), v.Counts())
	}
	if tok := s2.Token(strings.ToUpper(secretHash("x"))); tok == nil || tok.Name != "ops" {
		t.Fatal("token lost over restart")
	}
	r, err := s2.Apply(context.Background(), env(t, command.PairPut, time.Now().Unix(), "req-1", command.PairBody{Sender: "eve@umkc.edu", Entity: g.ID}))
	if err != nil || !r.Duplicate {
		t.Fatalf("retried request after restart: %+v %v", r, err)
	}
}

func TestStore_ApplyErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	bad := []*command.Envelope{
		nil,
		{V: command.Version + 1, Type: command.PairPut, Time: 1, Body: []byte(`{}`)},
		{V: 1, Type: command.PairPut, Body: []byte(`{}`)},
		{V: 1, Type: "nope", Time: 1, Body: []byte(`{}`)},
		{V: 1, Type: command.PairPut, Time: 1, Body: []byte(`{"sender": 1}`)},
		{V: 1, Type: command.Batch, Time: 1, Body: []byte(`{"commands": [{"v":1,"type":"pair.put","body":{"ip":[]}}]}`)},
		{V: 1, Type: command.PairPut, Time: 1, ReqID: strings.Repeat("r", 200), Body: []byte(`{}`)},
	}
	for i, e := range bad {
		if _, err := s.Apply(context.Background(), e); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("case %d: %v, want ErrInvalidCommand", i, err)
		}
	}
	r, err := s.Apply(context.Background(), env(t, command.PairDelete, 1, "", command.PairBody{Sender: "a@b.example", Entity: 5}))
	if err != nil || r.Err == nil || r.Err.Code != command.NotFound {
		t.Fatalf("rejection: %+v %v", r, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Apply(ctx, env(t, command.PairPut, 1, "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})); !errors.Is(err, ErrTimeout) {
		t.Fatalf("cancelled context: %v", err)
	}
	s.Close()
	if _, err := s.Apply(context.Background(), env(t, command.PairPut, 1, "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestStore_NotBootstrappedIsNotLeader(t *testing.T) {
	s, err := Open(context.Background(), Config{Dir: t.TempDir(), Bind: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Apply(context.Background(), env(t, command.PairPut, 1, "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("apply on a lone follower: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady without a leader: %v", err)
	}
}

func TestStore_NodeIDIsPersistedAndChecked(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, func(c *Config) { c.NodeID = "node-a" })
	s.Close()
	b, err := os.ReadFile(filepath.Join(dir, "node-id"))
	if err != nil || strings.TrimSpace(string(b)) != "node-a" {
		t.Fatalf("node-id file: %q %v", b, err)
	}
	if _, err := Open(context.Background(), Config{Dir: dir, Bind: "127.0.0.1:0", NodeID: "node-b", Logger: quietLogger()}); err == nil {
		t.Fatal("opened with a different node ID")
	}
}

func TestStore_SnapshotWhileWritesStream(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			if _, err := s.Apply(context.Background(), pairBatch(t, fmt.Sprintf("192.0.2.%d", i), 0, 200)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	snaps := 0
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		if err := s.raft.Snapshot().Error(); err == nil {
			snaps++
		}
	}
	wg.Wait()
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if snaps == 0 {
		t.Log("no snapshot during the writes (all raced with nothing new to snapshot)")
	}
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "after@snapshot.example", IP: "203.0.113.1"})
	want := s.Index().Load().Counts()
	s.Close()
	s2 := openStore(t, dir, nil)
	if got := s2.Index().Load().Counts(); got != want || want.Pairs != 20*200+1 {
		t.Fatalf("after restart counts %+v, want %+v", got, want)
	}
}

func TestStore_RestartWith100kPairs(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k pairs")
	}
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	start := time.Now()
	for i := range 100 {
		if _, err := s.Apply(context.Background(), pairBatch(t, fmt.Sprintf("10.0.%d.%d", i/250, i%250), i*1000, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	load := time.Since(start)
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 { // replayed from the log after the snapshot
		mustApply(t, s, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("late%d@example.org", i), IP: "10.9.9.9"})
	}
	want := s.Index().Load().Counts()
	s.Close()
	start = time.Now()
	s2 := openStore(t, dir, nil)
	restart := time.Since(start)
	if got := s2.Index().Load().Counts(); got != want || got.Pairs != 100_010 {
		t.Fatalf("after restart %+v, want %+v", got, want)
	}
	t.Logf("loaded 100k pairs in 100 batches in %v; restart (snapshot restore + log replay + ready) took %v", load, restart)
}

func TestStore_Metrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := openStore(t, t.TempDir(), func(c *Config) { c.Registerer = reg })
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "b.example", IP: "192.0.2.1"})
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	for name, want := range map[string]float64{
		`wlns_records{kind="pairs"}`:                        1,
		`wlns_records{kind="domain_pairs"}`:                 1,
		`wlns_records{kind="entities"}`:                     1,
		`wlns_records{kind="registered_relays"}`:            0,
		`wlns_records{kind="verp_sources"}`:                 0,
		`wlns_raft_is_leader`:                               1,
		`wlns_raft_apply_duration_seconds_count`:            2,
		`wlns_raft_snapshot_persist_duration_seconds_count`: 1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if got["wlns_raft_applied_index"] < 3 || got["wlns_raft_snapshot_size_bytes"] <= 0 {
		t.Errorf("applied index %v, snapshot size %v", got["wlns_raft_applied_index"], got["wlns_raft_snapshot_size_bytes"])
	}
	dir := s.cfg.Dir
	s.Close()
	s2 := openStore(t, dir, func(c *Config) { c.Registerer = reg }) // re-registers after Close
	if got := gather(t, reg); got["wlns_raft_snapshot_restore_duration_seconds"] <= 0 || got[`wlns_records{kind="pairs"}`] != 1 {
		t.Errorf("after restart: restore duration %v, pairs %v", got["wlns_raft_snapshot_restore_duration_seconds"], got[`wlns_records{kind="pairs"}`])
	}
	s2.Close()
}

// metricName is the naming rule of STYLE.md §11 (wlns_records is the one
// subsystem-less gauge the brief names; wlns_raft_applied_lag, in log
// entries, is named by issue 3; so is wlns_spool_pending, a count of
// entries).
var metricName = regexp.MustCompile(`^wlns_(records|raft_[a-z_]+_(seconds|bytes|total|index|leader|lag|full)|expiry_[a-z_]+_(seconds|total)|spool_(pending|[a-z_]+_total))$`)

// gather flattens a registry into "name{labels}" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !metricName.MatchString(mf.GetName()) || mf.GetHelp() == "" {
			t.Errorf("metric %q does not follow wlns_<subsystem>_<what>_<unit|total> or has no help", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var ls []string
				for _, l := range m.GetLabel() {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				name += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestOpen_RejectsBadConfig(t *testing.T) {
	cases := map[string]Config{
		"no dir":            {Bind: "127.0.0.1:0"},
		"no bind":           {Dir: t.TempDir()},
		"unusable bind":     {Dir: t.TempDir(), Bind: "127.0.0.1:99999"},
		"wildcard, no adv":  {Dir: t.TempDir(), Bind: "0.0.0.0:0"},
		"bad advertise":     {Dir: t.TempDir(), Bind: "127.0.0.1:0", Advertise: "nowhere:x"},
		"negative duration": {Dir: t.TempDir(), Bind: "127.0.0.1:0", ApplyTimeout: -1},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			cfg.Logger = quietLogger()
			s, err := Open(context.Background(), cfg)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			t.Log(err)
		})
	}
}
