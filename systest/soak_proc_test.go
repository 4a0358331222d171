package systest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// procSample is one node process's resident memory and open descriptors.
type procSample struct {
	node, pid int
	rssKiB    int64
	sockets   int // open descriptors that are sockets
	files     int // the other open descriptors
}

// sampleProcs reads /proc for every running node process.
func sampleProcs(t *testing.T, nodes []*nsNode) map[int]procSample {
	t.Helper()
	out := map[int]procSample{}
	for _, n := range nodes {
		pid := n.cmd.Process.Pid
		s, err := readProc(pid)
		if err != nil {
			t.Logf("node %d (pid %d): %v", n.i, pid, err)
			continue
		}
		s.node = n.i
		out[n.i] = s
	}
	return out
}

// readProc reads VmRSS from /proc/PID/status and counts /proc/PID/fd.
func readProc(pid int) (procSample, error) {
	s := procSample{pid: pid}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("reading its status: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			s.rssKiB, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return s, fmt.Errorf("VmRSS %q: %w", v, err)
			}
		}
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return s, fmt.Errorf("listing its descriptors: %w", err)
	}
	for _, fd := range fds {
		if to, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && strings.HasPrefix(to, "socket:") {
			s.sockets++
		} else {
			s.files++
		}
	}
	return s, nil
}

// Growth bounds of a node process over the soak. The data grows with the
// writes (the index, the bbolt pages the kernel keeps mapped), so flat
// memory means within a factor and a constant. Sockets vary with what is in
// flight: each node keeps up to 3 pooled Raft connections (MaxPool in
// raftstore) plus a pipeline and a heartbeat connection to each of its 4
// peers, and takes as many from them, so up to 40 come and go with leader
// changes and partitions; a leak of one per event passes that within the
// first minutes of `make soak`. Other descriptors (files) stay put.
const (
	rssGrowthFactor = 1.5
	rssGrowthKiB    = 64 << 10
	socketGrowth    = 40
	fileGrowth      = 4
)

// checkProcs compares each process that ran from the first sample to the
// second (a node killed and restarted meanwhile is a new process) and
// fails the test when memory or descriptors grew past the bounds.
func checkProcs(t *testing.T, before, after map[int]procSample) {
	t.Helper()
	compared := 0
	for i, b := range before {
		a, ok := after[i]
		if !ok || a.pid != b.pid {
			t.Logf("node %d: restarted during the soak (pid %d, now %d); at the end RSS %d MiB, %d sockets, %d other descriptors",
				i, b.pid, a.pid, a.rssKiB>>10, a.sockets, a.files)
			continue
		}
		compared++
		t.Logf("node %d (pid %d): RSS %d → %d MiB, open sockets %d → %d, other descriptors %d → %d",
			i, b.pid, b.rssKiB>>10, a.rssKiB>>10, b.sockets, a.sockets, b.files, a.files)
		if float64(a.rssKiB) > float64(b.rssKiB)*rssGrowthFactor+rssGrowthKiB {
			t.Errorf("node %d: RSS grew from %d to %d MiB during the soak", i, b.rssKiB>>10, a.rssKiB>>10)
		}
		if a.sockets > b.sockets+socketGrowth || a.files > b.files+fileGrowth {
			t.Errorf("node %d: open descriptors grew from %d sockets and %d others to %d and %d during the soak",
				i, b.sockets, b.files, a.sockets, a.files)
		}
	}
	if compared == 0 {
		t.Error("every node was restarted: no process to check for leaks")
	}
}
