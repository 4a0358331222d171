package raftstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lockFile is the file in the data folder a running node holds locked,
// with its process ID in it.
const lockFile = "lock"

// dirLock is a held lock on a data folder.
type dirLock struct{ f *os.File }

// lockDir takes the lock on the data folder dir for this process, or
// returns ErrDataInUse naming the process that holds it. Two processes on
// one folder would share its Raft log and spool; without the lock the
// second learned of the first only from bbolt's timeout on spool.db.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening the data folder lock: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w: %s is held by %s. Stop that process first, or give this one its own --data; "+
				"do not move raft.db or spool.db aside, they are in use", ErrDataInUse, dir, holder(path))
		}
		return nil, fmt.Errorf("locking the data folder: %w", err)
	}
	// The PID is for the message of the next process that finds the
	// folder locked; not writing it only makes that message vaguer.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	}
	return &dirLock{f: f}, nil
}

// holder names the process whose ID the lock file holds, with its command
// line where the system shows it.
func holder(path string) string {
	b, err := os.ReadFile(path)
	pid := strings.TrimSpace(string(b))
	if err != nil || pid == "" {
		return "another process"
	}
	cmd, err := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
	if err != nil || len(cmd) == 0 {
		return "process " + pid
	}
	line := strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
	if len(line) > 120 {
		line = line[:120] + "…"
	}
	return fmt.Sprintf("process %s (%s)", pid, line)
}

// unlock releases the lock; the file stays (the next holder rewrites it).
func (l *dirLock) unlock() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
