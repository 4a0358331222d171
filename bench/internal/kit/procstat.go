package kit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcStat is the part of /proc/PID/stat the benchmark reads.
type ProcStat struct {
	pid, ppid    int
	utime, stime uint64 // clock ticks
}

// ReadStat parses /proc/PID/stat. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func ReadStat(pid int) (ProcStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, fmt.Errorf("reading stat of %d: %w", pid, err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("stat of %d: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return ProcStat{}, fmt.Errorf("stat of %d: %d fields", pid, len(f))
	}
	s := ProcStat{pid: pid}
	s.ppid, _ = strconv.Atoi(f[1])
	s.utime, _ = strconv.ParseUint(f[11], 10, 64)
	s.stime, _ = strconv.ParseUint(f[12], 10, 64)
	return s, nil
}

// Tree returns root and all its live descendants (NSD forks its workers).
func Tree(root int) []int {
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if s, err := ReadStat(pid); err == nil {
			children[s.ppid] = append(children[s.ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// TreeCPU is the user+system CPU seconds used so far by root's process tree.
func TreeCPU(root int) float64 {
	var ticks uint64
	for _, pid := range Tree(root) {
		if s, err := ReadStat(pid); err == nil {
			ticks += s.utime + s.stime
		}
	}
	return float64(ticks) / clockTicks
}

// Memory is a process tree's resident memory.
type Memory struct {
	// RSSMiB is the largest resident set of one process of the tree.
	RSSMiB float64
	// PSSMiB is the proportional set size summed over the tree (shared
	// pages counted once).
	PSSMiB float64
	// AnonMiB is the anonymous (heap and stack, not file-mapped) memory
	// summed over the tree: it separates wlns's heap from bbolt's mmap.
	AnonMiB float64
}

// TreeMemory reads VmRSS and Pss for root's tree.
func TreeMemory(root int) Memory {
	var m Memory
	for _, pid := range Tree(root) {
		rss := KibField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
		m.RSSMiB = max(m.RSSMiB, rss/1024)
		rollup := fmt.Sprintf("/proc/%d/smaps_rollup", pid)
		m.PSSMiB += KibField(rollup, "Pss:") / 1024
		m.AnonMiB += KibField(rollup, "Anonymous:") / 1024
	}
	return m
}

// KibField returns the kB value of the line starting with key, or 0.
func KibField(path, key string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, key); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				v, _ := strconv.ParseFloat(fields[0], 64)
				return v
			}
		}
	}
	return 0
}
