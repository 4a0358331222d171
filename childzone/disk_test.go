package childzone

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// saveHelperEnv names the folder a re-run of the test binary transfers
// the cut zones into, under strace (TestChild_CopyRenameIsDurable).
const saveHelperEnv = "WLNS_CHILDZONE_SAVE_INTO"

// TestChild_CopyRenameIsDurable: a serve-only node transfers its zones
// (the real refresh path, in a re-run of this test binary under strace)
// and every copy renamed into place is followed by an fsync of the folder
// holding it. Without it the file's bytes were durable but the rename
// was not: a crash could bring back the old copy, or no copy at all.
func TestChild_CopyRenameIsDurable(t *testing.T) {
	if dir := os.Getenv(saveHelperEnv); dir != "" {
		c := startCluster(t, fixture(), nil)
		c.delegate(t)
		startChild(t, dir, []string{c.xfr.Addr().String()}, nil).waitReady(t)
		return
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace is not installed")
		}
		t.Skip("strace is not installed")
	}
	dir, trace := t.TempDir(), filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-o", trace, "-e", "trace=openat,rename,renameat,renameat2,fsync",
		os.Args[0], "-test.run=^TestChild_CopyRenameIsDurable$", "-test.count=1")
	cmd.Env = append(os.Environ(), saveHelperEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the node under strace: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	renamed, synced := renamesSynced(string(b), dir)
	if renamed != 6 || synced != renamed {
		t.Fatalf("%d copies renamed into %s, %d of them followed by an fsync of the folder; want 6 and 6", renamed, dir, synced)
	}
}

var (
	// traceLine is one strace -f line: pid, call, arguments, result.
	traceLine = regexp.MustCompile(`^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)`)
	quoted    = regexp.MustCompile(`"([^"]*)"`)
)

// renamesSynced reads an strace -f log: how many renames put a file into
// dir, and how many of them an fsync of a descriptor open on dir followed.
func renamesSynced(log, dir string) (renamed, synced int) {
	log = joinResumed(log)
	open := map[string]string{} // descriptor → path
	pending := 0                // renames into dir since its last fsync
	for _, line := range strings.Split(log, "\n") {
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		call, args, ret := m[1], m[2], m[3]
		paths := quoted.FindAllStringSubmatch(args, -1)
		switch {
		case call == "openat" && len(paths) > 0:
			open[ret] = paths[0][1]
		case strings.HasPrefix(call, "rename") && len(paths) == 2 && ret == "0" && filepath.Dir(paths[1][1]) == dir:
			renamed++
			pending++
		case call == "fsync" && open[strings.TrimSpace(args)] == dir:
			synced += pending
			pending = 0
		}
	}
	return renamed, synced
}

// joinResumed joins strace's "<unfinished ...>" lines with their
// "<... call resumed>" ends, so that each call is one line.
func joinResumed(log string) string {
	resumed := regexp.MustCompile(`^(\d+)\s+<\.\.\. \w+ resumed>(.*)$`)
	var out []string
	start := map[string]int{} // pid → its unfinished line in out
	for _, line := range strings.Split(log, "\n") {
		if head, ok := strings.CutSuffix(line, " <unfinished ...>"); ok {
			pid, _, _ := strings.Cut(head, " ")
			start[pid] = len(out)
			out = append(out, head)
			continue
		}
		if m := resumed.FindStringSubmatch(line); m != nil {
			if i, ok := start[m[1]]; ok {
				out[i] += m[2]
				delete(start, m[1])
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
